"""The page read once: its DOM, its schema.org items, the business item, OpenGraph, and the
sections a heading or a class name marks out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ._language import effective_language
from ._text import fold, plain, visible_text


@dataclass(frozen=True, slots=True)
class Page:
    """The page read once: its DOM, schema.org items, the business item and OpenGraph."""

    url: str
    tree: LexborHTMLParser
    items: tuple[dict[str, Any], ...]  # every schema.org item, nested ones included
    business: dict[str, Any]  # the item that describes the business ({} when none)
    og: dict[str, str]
    language: str  # BCP 47 tag: the markup's, unless the text is plainly in another language

    @classmethod
    def parse(cls, html: str, url: str) -> Page:
        tree = LexborHTMLParser(html or "<html></html>")
        _drop_consent_banners(tree)
        items = tuple(_walk_items([*_jsonld_items(tree, url), *_extruct(html, url, "microdata")]))
        og_items = _extruct(html, url, "opengraph")
        og = {
            k: plain(v)
            for k, v in (og_items[0] if og_items else {}).items()
            if isinstance(v, str) and not k.startswith("@")
        }
        business = _business_item(items)
        return cls(url, tree, items, business, og, _language(tree, og, business))

    def meta(self, name: str) -> str:
        node = self.tree.css_first(f'meta[name="{name}" i], meta[property="{name}" i]')
        return plain(node.attributes.get("content") or "") if node else ""

    @property
    def body(self) -> LexborNode | None:
        return self.tree.body

    def items_of_type(self, *types: str) -> Iterator[dict[str, Any]]:
        return (item for item in self.items if schema_types(item) & set(types))


def _language(tree: LexborHTMLParser, og: dict[str, str], business: dict[str, Any]) -> str:
    html = tree.css_first("html")
    meta = tree.css_first('meta[http-equiv="content-language" i], meta[name="content-language" i]')
    declared = (html.attributes.get("lang") if html else None) or (
        meta.attributes.get("content") if meta else None
    )
    declared = declared or og.get("og:locale", "") or plain(business.get("inLanguage", ""))
    return effective_language(declared or "", visible_text(tree.body))


# Cookie and consent banners: their text is about the website, never about the business.
_CONSENT_MARKS = ("cookie", "consent", "gdpr", "rgpd", "dsgvo")
# A banner talks about the site's use of cookies; a bakery's "cookie box" does not.
_CONSENT_TEXT = re.compile(
    r"cookies?\b.*\b(us(e|es|ing)|utilis|utiliz|usamos|verwende|nutz|accept|akzept|acept|"
    r"consent|einverst|einwillig|zustimm|privacy|datenschutz|confidentialite|privacidad|"
    r"navigat|experience|experiencia|analy|audience)"
    r"|\b(we use|uses|utilisons|utilise|utilizamos|usamos|verwendet|verwenden|nutzen)\b.*cookies?",
)


def _drop_consent_banners(tree: LexborHTMLParser) -> None:
    """Remove cookie banners, found by their id/class or as a small block with a button, whose
    text is about the site's use of cookies; so no reader takes it for the description."""
    marked = ", ".join(f'[id*="{m}" i], [class*="{m}" i]' for m in _CONSENT_MARKS)
    candidates = [*tree.css(marked), *(b.parent for b in tree.css("button") if b.parent)]
    dropped: set[int] = set()
    for node in candidates:
        if node.tag in {"html", "body", "main", "header", "footer"} or _within(node, dropped):
            continue
        words = fold(visible_text(node))
        if len(words) <= 600 and _CONSENT_TEXT.search(words):
            dropped.add(node.mem_id)
    # only the outermost ones, each once: a decomposed node's descendants are freed with it
    roots = {n.mem_id: n for n in candidates if n.mem_id in dropped}
    for node in [n for n in roots.values() if not _within(n.parent, dropped)]:
        node.decompose()


def _within(node: LexborNode | None, ids: set[int]) -> bool:
    while node is not None:
        if node.mem_id in ids:
            return True
        node = node.parent
    return False


def _extruct(html: str, url: str, syntax: str) -> list[dict[str, Any]]:
    """One extruct syntax; broken markup costs that syntax, never the whole page."""
    import extruct  # deferred: extruct imports rdflib, which would slow `import newo_nb`

    try:
        found = extruct.extract(html, base_url=url, syntaxes=[syntax], uniform=True)
    except Exception:  # extruct raises whatever its parsers raise on malformed input
        return []
    return [item for item in found.get(syntax, []) if isinstance(item, dict)]


def _jsonld_items(tree: LexborHTMLParser, url: str) -> list[dict[str, Any]]:
    """JSON-LD, one ``<script>`` at a time: extruct drops every block if one is broken."""
    from extruct.jsonld import JsonLdExtractor

    items: list[dict[str, Any]] = []
    for script in tree.css('script[type="application/ld+json"]'):
        block = f'<script type="application/ld+json">{script.text()}</script>'
        try:
            found = JsonLdExtractor().extract(block, base_url=url)
        except Exception:  # malformed JSON that even extruct's lenient fallback cannot read
            found = []
        items.extend(found)
    return items


def _walk_items(values: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Every typed item, including those nested in ``@graph`` or in another item's values."""
    for value in values:
        if isinstance(value, list):
            yield from _walk_items(value)
        elif isinstance(value, dict):
            if "@type" in value:
                yield value
            yield from _walk_items(
                v for k, v in value.items() if not k.startswith("@") or k == "@graph"
            )


def schema_types(item: dict[str, Any]) -> set[str]:
    """``@type`` as bare names: "https://schema.org/Dentist" and ["Dentist"] give {"Dentist"}."""
    raw = item.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return {str(n).rstrip("/").rsplit("/", 1)[-1] for n in names if n}


# Types that describe the page or a part of the business, never the business itself.
# fmt: off
_NOT_A_BUSINESS = frozenset({
    "WebSite", "WebPage", "AboutPage", "ContactPage", "FAQPage", "Question", "Answer",
    "BreadcrumbList", "ListItem", "ItemList", "PostalAddress", "GeoCoordinates",
    "OpeningHoursSpecification", "Offer", "OfferCatalog", "Service", "Product", "ImageObject",
    "SearchAction", "EntryPoint", "Person", "Review", "AggregateRating", "Rating", "ContactPoint",
    "Place", "Menu", "MenuSection", "MenuItem", "Event", "SiteNavigationElement", "Brand",
    "Country", "City", "State", "AdministrativeArea", "PriceSpecification", "Thing",
})
# fmt: on
_BUSINESS_PROPERTIES = (
    "telephone",
    "address",
    "openingHours",
    "openingHoursSpecification",
    "priceRange",
    "email",
    "geo",
    "sameAs",
)  # fmt: skip


def _business_item(items: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """The named item with business types and the most business properties."""

    def score(item: dict[str, Any]) -> int:
        specific = bool(schema_types(item) - {"Organization", "LocalBusiness"})
        return sum(p in item for p in _BUSINESS_PROPERTIES) + 2 * specific

    candidates = [i for i in items if i.get("name") and schema_types(i) - _NOT_A_BUSINESS]
    return max(candidates, key=score, default={})


def _elements_after(heading: LexborNode) -> Iterator[LexborNode]:
    """The elements that follow a heading, up to the next heading of the same or higher rank.

    When the heading is alone in a wrapper (``<div class="title"><h2>…</h2></div>``), the
    wrapper's following siblings are the section's content.
    """
    rank = _heading_rank(heading)
    node = heading
    if not next_element(node) and node.parent is not None:
        node = node.parent
    sibling = next_element(node)
    while sibling is not None and not 0 < _heading_rank(sibling) <= rank:
        yield sibling
        sibling = next_element(sibling)


def next_element(node: LexborNode) -> LexborNode | None:
    sibling = node.next
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.next
    return sibling


def _heading_rank(node: LexborNode) -> int:
    tag = node.tag or ""
    return int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else 0


def headed_sections(page: Page, keywords: re.Pattern[str]) -> Iterator[list[LexborNode]]:
    """Content of every section whose heading (h1-h6) matches ``keywords``."""
    for heading in page.tree.css("h1, h2, h3, h4, h5, h6"):
        if keywords.search(fold(visible_text(heading))):
            yield list(_elements_after(heading))


def marked_sections(page: Page, marks: tuple[str, ...]) -> Iterator[LexborNode]:
    """Elements whose id or class names one of ``marks`` (e.g. ``class="opening-hours"``)."""
    selector = ", ".join(f'[id*="{m}" i], [class*="{m}" i]' for m in marks)
    yield from page.tree.css(selector)


def dig(value: Any, key: str) -> Any:
    """``value[key]``, looking into the first element when schema.org gave a list."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict)), {})
    return value.get(key) if isinstance(value, dict) else None


def heading_before(node: LexborNode) -> LexborNode | None:
    """The nearest heading (h1-h6) before ``node`` in reading order, looking back through
    its earlier siblings, then its parent's, up to the body."""
    here: LexborNode | None = node
    while here is not None and here.tag not in {"body", "html"}:
        sibling = here.prev
        while sibling is not None:
            if sibling.is_element_node:
                if _heading_rank(sibling):
                    return sibling
                inner = sibling.css("h1, h2, h3, h4, h5, h6")
                if inner:
                    return inner[-1]
            sibling = sibling.prev
        here = here.parent
    return None
