"""Read a business home page into onboarding facts, the way Newo's scraper reports them.

Pure: no I/O and no event loop. ``extract_facts(html, url)`` returns one :class:`Fact` per
question the page answers, in :data:`QUESTIONS` order; questions the page is silent on are
absent. Every answer is plain, human-readable text.

Sources are tried from the most to the least reliable: schema.org data (JSON-LD and
microdata, read with ``extruct``), then ``<meta>``/OpenGraph, then the page structure (read
with ``selectolax``): ``tel:``/``mailto:`` links, ``<address>``, headed sections ("Hours",
"Services", "FAQ" in English, Spanish, German and French), ``<details>`` and ``<dl>``.

>>> facts = extract_facts("<title>Joe's Pizza | Austin</title>", "https://joes.example.com")
>>> [(f.question, f.answer) for f in facts]
[('business_website_title', "Joe's Pizza | Austin"), ('business_name', "Joe's Pizza")]
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = [
    "QUESTIONS",
    "ExtractionError",
    "Fact",
    "extract_facts",
    "format_hours",
    "parse_hours",
]

# The vocabulary, in the order the steps are emitted, with each question's stage.
_STAGES: dict[str, str] = {
    "business_website_title": "preprocessing",
    "business_language": "preprocessing",
    "business_name": "stage",
    "business_description": "stage",
    "business_phone": "stage",
    "business_email": "stage",
    "business_address": "stage",
    "business_working_hours": "stage",
    "business_services": "stage",
    "business_faq": "stage",
    "business_social_links": "stage",
    "business_price_range": "stage",
    "business_industry_hints": "postprocessing",
}
QUESTIONS: tuple[str, ...] = tuple(_STAGES)

MAX_ANSWER_CHARS = 2000
_MAX_LIST_ITEMS = 25


@dataclass(frozen=True, slots=True)
class Fact:
    """One answered question: ``Fact("business_phone", "(512) 555-0134", "stage")``."""

    question: str  # one of QUESTIONS
    answer: str  # plain text, human readable, never HTML
    stage: str  # "preprocessing" | "stage" | "postprocessing"


class ExtractionError(Exception):
    """The page says nothing usable about a business; the message says what to check."""


def extract_facts(html: str, url: str) -> list[Fact]:
    """Every fact ``html`` (fetched from ``url``) states, in :data:`QUESTIONS` order.

    Raises :class:`ExtractionError` when the page has no title, schema.org data or
    description, which is what a parked domain, a server's default page or a JavaScript
    shell looks like.
    """
    page = _Page.parse(html, url)
    answers = {question: _READERS[question](page) for question in QUESTIONS}
    stated = any(
        answers[q] for q in ("business_name", "business_website_title", "business_description")
    )
    if not stated or (_is_server_default(page) and not page.business):
        raise ExtractionError(
            f"{url} says nothing about a business: no title, schema.org data or description "
            "was found. Check that `source` is the business's home page."
        )
    return [Fact(q, _bounded(a), _STAGES[q]) for q, a in answers.items() if a]


# -- the parsed page -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Page:
    """The page read once: its DOM, schema.org items, the business item and OpenGraph."""

    url: str
    tree: LexborHTMLParser
    items: tuple[dict[str, Any], ...]  # every schema.org item, nested ones included
    business: dict[str, Any]  # the item that describes the business ({} when none)
    og: dict[str, str]

    @classmethod
    def parse(cls, html: str, url: str) -> _Page:
        tree = LexborHTMLParser(html or "<html></html>")
        items = tuple(_walk_items([*_jsonld_items(tree, url), *_extruct(html, url, "microdata")]))
        og_items = _extruct(html, url, "opengraph")
        og = {
            k: _plain(v)
            for k, v in (og_items[0] if og_items else {}).items()
            if isinstance(v, str) and not k.startswith("@")
        }
        return cls(url, tree, items, _business_item(items), og)

    def meta(self, name: str) -> str:
        node = self.tree.css_first(f'meta[name="{name}" i], meta[property="{name}" i]')
        return _plain(node.attributes.get("content") or "") if node else ""

    @property
    def body(self) -> LexborNode | None:
        return self.tree.body

    def items_of_type(self, *types: str) -> Iterator[dict[str, Any]]:
        return (item for item in self.items if _types(item) & set(types))


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


def _types(item: dict[str, Any]) -> set[str]:
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
        specific = bool(_types(item) - {"Organization", "LocalBusiness"})
        return sum(p in item for p in _BUSINESS_PROPERTIES) + 2 * specific

    candidates = [i for i in items if i.get("name") and _types(i) - _NOT_A_BUSINESS]
    return max(candidates, key=score, default={})


# -- text helpers ----------------------------------------------------------------------------

_INVISIBLE = frozenset({"script", "style", "noscript", "template", "svg", "head", "-comment"})
# fmt: off
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "tfoot", "thead", "tr", "ul",
})
# fmt: on
_CELLS = frozenset({"td", "th"})


def _plain(value: Any) -> str:
    """Plain text from a scraped value: tags and scripts removed, whitespace collapsed."""
    if isinstance(value, list):
        value = next((v for v in value if v), "")
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    text = str(value)
    if "<" in text or "&" in text:
        fragment = LexborHTMLParser(f"<body>{text}</body>")
        text = "\n".join(_lines(fragment.body)) if fragment.body else ""
    return " ".join(text.split())


def _lines(node: LexborNode | None) -> list[str]:
    """The visible text of ``node``, one entry per rendered line, blanks dropped."""
    lines: list[str] = []
    current: list[str] = []
    if node is not None:
        _collect_lines(node, current, lines)
    lines.append("".join(current))
    return [" ".join(line.split()) for line in lines if line.strip()]


def _collect_lines(node: LexborNode, current: list[str], lines: list[str]) -> None:
    for child in node.iter(include_text=True):
        tag = child.tag or ""
        if tag == "-text":
            current.append(child.text_content or "")
        elif tag in _INVISIBLE or child.is_comment_node:
            continue
        elif tag in _BLOCKS:
            _break_line(current, lines)
            _collect_lines(child, current, lines)
            _break_line(current, lines)
        else:
            if tag in _CELLS:  # table cells of one row stay on one line: "Mon 9-5"
                current.append(" ")
            _collect_lines(child, current, lines)


def _break_line(current: list[str], lines: list[str]) -> None:
    lines.append("".join(current))
    current.clear()


def _text(node: LexborNode | None) -> str:
    return " ".join(_lines(node))


def _fold(text: str) -> str:
    """Case- and accent-free text for keyword matching: "Öffnungszeiten" → "offnungszeiten"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _bounded(answer: str, limit: int = MAX_ANSWER_CHARS) -> str:
    if len(answer) <= limit:
        return answer
    return answer[: limit - 1].rsplit(" ", 1)[0] + "…"


def _join(items: Iterable[str], separator: str = "; ") -> str:
    """Distinct non-empty items in order, at most ``_MAX_LIST_ITEMS`` of them."""
    seen: dict[str, str] = {}
    for item in items:
        if item and _fold(item) not in seen:
            seen[_fold(item)] = item
    return separator.join(list(seen.values())[:_MAX_LIST_ITEMS])


def _elements_after(heading: LexborNode) -> Iterator[LexborNode]:
    """The elements that follow a heading, up to the next heading of the same or higher rank.

    When the heading is alone in a wrapper (``<div class="title"><h2>…</h2></div>``), the
    wrapper's following siblings are the section's content.
    """
    rank = _heading_rank(heading)
    node = heading
    if not _next_element(node) and node.parent is not None:
        node = node.parent
    sibling = _next_element(node)
    while sibling is not None and not 0 < _heading_rank(sibling) <= rank:
        yield sibling
        sibling = _next_element(sibling)


def _next_element(node: LexborNode) -> LexborNode | None:
    sibling = node.next
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.next
    return sibling


def _heading_rank(node: LexborNode) -> int:
    tag = node.tag or ""
    return int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else 0


def _headed_sections(page: _Page, keywords: re.Pattern[str]) -> Iterator[list[LexborNode]]:
    """Content of every section whose heading (h1-h6) matches ``keywords``."""
    for heading in page.tree.css("h1, h2, h3, h4, h5, h6"):
        if keywords.search(_fold(_text(heading))):
            yield list(_elements_after(heading))


def _marked_sections(page: _Page, marks: tuple[str, ...]) -> Iterator[LexborNode]:
    """Elements whose id or class names one of ``marks`` (e.g. ``class="opening-hours"``)."""
    selector = ", ".join(f'[id*="{m}" i], [class*="{m}" i]' for m in marks)
    yield from page.tree.css(selector)


# -- preprocessing -------------------------------------------------------------------------

# Titles no business gives its page: a server's default page, a builder's placeholder.
_SERVER_DEFAULT_TITLE = re.compile(
    r"^(welcome to nginx!?|it works!?|index of .*|.*default page.*|coming soon|"
    r"under construction|404.*|page not found|react app|test page.*|.*domain .*for sale.*)$"
)
_PLACEHOLDER_TITLE = re.compile(
    _SERVER_DEFAULT_TITLE.pattern[:-2] + r"|untitled( document)?|document|home|loading.*|new tab)$"
)


def _is_server_default(page: _Page) -> bool:
    """A server's or builder's stock page: its text is about the software, not a business."""
    node = page.tree.css_first("title")
    heading = page.tree.css_first("h1")
    return any(_SERVER_DEFAULT_TITLE.match(_fold(_text(n))) for n in (node, heading) if n)


def _website_title(page: _Page) -> str:
    node = page.tree.css_first("title")
    title = _plain(node.text()) if node else ""
    title = title or page.og.get("og:title", "")
    return "" if _PLACEHOLDER_TITLE.match(_fold(title)) else title


_LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}


def _language(page: _Page) -> str:
    html = page.tree.css_first("html")
    tag = (html.attributes.get("lang") if html else None) or page.meta("content-language")
    tag = tag or page.og.get("og:locale", "") or _plain(page.business.get("inLanguage", ""))
    tag = (tag or "").strip().replace("_", "-")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag):
        tag = _guess_language(_text(page.body))
    return f"{_language_name(tag)} ({tag})" if tag else ""


def _language_name(tag: str) -> str:
    primary = tag.split("-")[0].lower()
    if primary in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[primary]
    import pycountry  # deferred: loads its databases on import

    found = pycountry.languages.get(alpha_2=primary) or pycountry.languages.get(alpha_3=primary)
    return found.name if found else primary


# A handful of very common words is enough to tell these languages apart on a whole page.
_STOPWORDS = {
    "en": {"the", "and", "our", "with", "for", "you", "your", "we", "are", "of"},
    "es": {"el", "los", "las", "y", "con", "para", "nuestro", "nuestra", "somos", "del"},
    "de": {"der", "die", "das", "und", "mit", "für", "wir", "ihr", "ist", "unsere"},
    "fr": {"le", "les", "et", "avec", "pour", "nous", "notre", "vous", "est", "des"},
}


def _guess_language(text: str) -> str:
    words = re.findall(r"\w+", text.casefold())
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= 5 else ""


# -- the business ----------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s+[|–—·•:\-]\s+|\s*\|\s*")
_GENERIC_SEGMENT = re.compile(
    r"^(home|homepage|welcome|official (web)?site|inicio|startseite|accueil|bienvenue|"
    r"bienvenidos|willkommen)$"
)
_WELCOME = re.compile(
    r"^(welcome to|bienvenidos? a|willkommen (bei|in)|bienvenue (a|chez))\s+", re.IGNORECASE
)
_COPYRIGHT = re.compile(
    r"(?:©|\(c\)|copyright)\s*(?:\d{4}\s*(?:[-–]\s*\d{4})?)?\s*,?\s*"
    r"([^.|©]{2,80}?)\s*"
    r"(?:\.|\||all rights|tous droits|todos los|alle rechte|$)",
    re.IGNORECASE,
)


def _name(page: _Page) -> str:
    for explicit in (
        _plain(page.business.get("name", "")),
        page.og.get("og:site_name", ""),
        page.meta("application-name"),
    ):
        if explicit:
            return explicit
    return _name_from_layout(page)


def _name_from_layout(page: _Page) -> str:
    """The title segment the page's logo, footer or h1 confirms; else the likeliest one."""
    segments = [s for s in _title_segments(page) if not _GENERIC_SEGMENT.match(_fold(s))]
    brand, logo, owner = _brand_text(page), _logo_alt(page), _copyright_holder(page)
    h1 = _text(page.tree.css_first("h1"))
    h1 = "" if _PLACEHOLDER_TITLE.match(_fold(h1)) else _WELCOME.sub("", h1)
    witnesses = [w for w in (brand, logo, owner, h1) if w]
    for segment in segments:
        if any(_same_name(segment, w) for w in witnesses):
            return segment
    return next((n for n in (brand, logo, owner, *segments[:1], h1) if n), "")


def _title_segments(page: _Page) -> list[str]:
    node = page.tree.css_first("title")
    title = _plain(node.text()) if node else page.og.get("og:title", "")
    if _PLACEHOLDER_TITLE.match(_fold(title)):
        return []
    return [_WELCOME.sub("", s).strip() for s in _TITLE_SEPARATORS.split(title) if s.strip()]


def _brand_text(page: _Page) -> str:
    node = page.tree.css_first(
        'header .logo, header .brand, .site-title, .site-name, .navbar-brand, [class*="brand"]'
    )
    return _text(node) if node else ""


def _logo_alt(page: _Page) -> str:
    node = page.tree.css_first('img[alt][class*="logo" i], img[alt][src*="logo" i]')
    alt = _plain(node.attributes.get("alt") or "") if node else ""
    return re.sub(r"\s+logo$", "", alt, flags=re.IGNORECASE)


def _copyright_holder(page: _Page) -> str:
    for line in reversed(_lines(page.body)):
        found = _COPYRIGHT.search(line)
        if found:
            return found.group(1).strip(" ,")
    return ""


def _same_name(a: str, b: str) -> bool:
    """Whether one name's words all appear in the other ("Joe's Pizza" in "Joe's Pizza LLC")."""
    wa, wb = set(re.findall(r"\w+", _fold(a))), set(re.findall(r"\w+", _fold(b)))
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _description(page: _Page) -> str:
    for candidate in (
        _plain(page.business.get("description", "")),
        page.meta("description"),
        page.og.get("og:description", ""),
    ):
        if candidate:
            return candidate
    return _first_paragraph(page)


def _first_paragraph(page: _Page) -> str:
    """The first paragraph long enough to describe something, outside navigation and footer."""
    for paragraph in page.tree.css("main p, header p, section p, body p"):
        if _inside(paragraph, {"footer", "nav", "form"}):
            continue
        text = _text(paragraph)
        if len(text) >= 80:
            return text
    return ""


def _inside(node: LexborNode, tags: set[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


# -- contact ---------------------------------------------------------------------------------


def _phone(page: _Page) -> str:
    contact = page.business.get("contactPoint") or {}
    for value in (page.business.get("telephone"), _dig(contact, "telephone")):
        stated = _plain(value or "")
        if stated.startswith("tel:"):  # microdata on a link: the visible text is as written
            return _tel_link_text(page, stated) or stated.removeprefix("tel:")
        if stated:
            return stated
    link = page.tree.css_first('a[href^="tel:" i]')
    if link is not None:
        return _tel_link_text(page, link.attributes.get("href") or "")
    return _phone_in_text(page)


def _tel_link_text(page: _Page, href: str) -> str:
    """A ``tel:`` link's text when it shows the number, else the number in its href."""
    for link in page.tree.css('a[href^="tel:" i]'):
        if (link.attributes.get("href") or "") == href:
            shown = _text(link)
            if len(re.sub(r"\D", "", shown)) >= 7:
                return re.sub(r"^[^\d(+]+", "", shown)  # "Call (303) 555-0112" → the number
    return unquote(href)[4:].strip()


# Where to look for a number written without its country code, after the page's own region.
_LIKELY_REGIONS = ("US", "GB", "CA", "AU", "DE", "FR", "ES", "IT", "NL", "IE", "NZ")


def _phone_in_text(page: _Page) -> str:
    import phonenumbers  # deferred: its metadata is large

    text = "\n".join(_lines(page.body))
    for region in dict.fromkeys((_region(page), *_LIKELY_REGIONS)):
        # VALID, not POSSIBLE: "7.30 – 17.00" in an hours table is a possible number too.
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        )
        found = next((match.raw_string for match in matcher), "")
        if found:
            return found
    return ""


def _region(page: _Page) -> str:
    """The country phone numbers on the page are local to: the address's, or the language's."""
    country = _dig(page.business.get("address") or {}, "addressCountry")
    if isinstance(country, dict):
        country = country.get("name", "")
    if isinstance(country, str) and re.fullmatch(r"[A-Za-z]{2}", country.strip()):
        return country.strip().upper()
    html = page.tree.css_first("html")
    tag = ((html.attributes.get("lang") if html else None) or "").replace("_", "-")
    parts = tag.split("-")
    if len(parts) > 1 and len(parts[1]) == 2:
        return parts[1].upper()
    return {"es": "ES", "de": "DE", "fr": "FR", "it": "IT", "pt": "PT", "nl": "NL"}.get(
        parts[0].lower(), "US"
    )


def _dig(value: Any, key: str) -> Any:
    """``value[key]``, looking into the first element when schema.org gave a list."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict)), {})
    return value.get(key) if isinstance(value, dict) else None


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)


def _email(page: _Page) -> str:
    contact = page.business.get("contactPoint") or {}
    for value in (page.business.get("email"), _dig(contact, "email")):
        if _plain(value or ""):
            return _plain(value).removeprefix("mailto:")
    link = page.tree.css_first('a[href^="mailto:" i]')
    if link is not None:
        return unquote(link.attributes.get("href") or "")[7:].split("?")[0].strip()
    found = _EMAIL.search("\n".join(_lines(page.body)))
    return found.group(0) if found else ""


def _address(page: _Page) -> str:
    schema = _schema_address(page.business.get("address"))
    if schema:
        return schema
    for node in [*page.tree.css("address"), *_marked_sections(page, _ADDRESS_MARKS)]:
        found = _address_from_lines(_lines(node))
        if found:
            return found
    for section in _headed_sections(page, _ADDRESS_HEADINGS):
        found = _address_from_lines([line for node in section[:3] for line in _lines(node)])
        if found:
            return found
    return _address_in_text(_lines(page.body))


def _schema_address(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, str):
        return _plain(value)
    if not isinstance(value, dict):
        return ""
    region = " ".join(_plain(value.get(k, "")) for k in ("addressRegion", "postalCode"))
    parts = (
        value.get("streetAddress"),
        value.get("addressLocality"),
        region.strip(),
        value.get("addressCountry"),
    )
    return ", ".join(p for p in (_plain(part or "") for part in parts) if p)


_ADDRESS_MARKS = ("address", "adresse", "direccion", "anschrift")
_ADDRESS_HEADINGS = re.compile(
    r"\b(address|location|find us|visit us|where we are|direccion|ubicacion|donde estamos|"
    r"adresse|anschrift|so finden sie uns|nous trouver|acces)\b"
)
_CONTACT_LABEL = re.compile(
    r"^(address|adresse|direccion|anschrift|visit us|find us|location)"
    r"\s*:?\s*",
    re.IGNORECASE,
)


def _address_from_lines(lines: list[str]) -> str:
    """The address lines of a block: from the first line with a number to the first that is
    something else (a phone, an email, hours, a copyright line); at most four."""
    kept: list[str] = []
    for line in lines:
        line = _CONTACT_LABEL.sub("", line).strip(" ,")
        if not line:
            continue
        if _is_contact_detail(line):
            if kept:
                break
            continue
        if kept or re.search(r"\d", line):
            kept.append(line)
    joined = ", ".join(kept[:4])
    return _address_in_text([joined]) or joined


def _is_contact_detail(line: str) -> bool:
    labelled = re.search(
        r"\b(phone|tel|call|fax|email|e-mail|telefon|telefono|copyright|rights)\b|©", _fold(line)
    )
    return bool(labelled or _EMAIL.search(line) or _looks_like_phone(line) or parse_hours(line))


# "[Unit 2,] <number> <street>, <city>, <region> <postcode>", ending in a US/CA/UK/AU postcode.
_POSTCODE = (
    r"(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?"  # US: TX 78704
    r"|(?:[A-Z]{2}\s+|\([^)\n]{2,20}\)\s*)?[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # CA: (Québec) H2J 1J5
    r"|(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+\d{4}"  # AU: VIC 3065
    r"|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})"  # UK: BS8 4BU
)
_UNIT = r"(?i:(?:shop|unit|suite|ste|apt|level|floor)\s*\d+[A-Za-z]?,?\s+)?"
_PO_BOX = r"(?i:p\.?\s?o\.?\s*box)\s+\d+"
_STREET_ADDRESS = re.compile(
    rf"\b(?:{_PO_BOX}|{_UNIT}\d{{1,6}}[A-Za-z]?),?\s+[A-Za-z0-9][^@\n]{{2,120}}?[,\s]\s*"
    + _POSTCODE
    + r"\b"
)
# Continental Europe: "<street> <number>, <5-digit postcode> <city>", the number either side.
_LETTER = r"[^\W\d_]"
_EUROPEAN_ADDRESS = re.compile(
    rf"(?:{_LETTER}[^\n@,]*?,?\s\d{{1,4}}[a-z]?|\d{{1,4}}[a-z]?,?\s{_LETTER}[^\n@,]*?)"
    rf"\s*,\s*\d{{5}}\s+{_LETTER}[\w-]*(?:\s{_LETTER}[\w-]*)?"
)


def _address_in_text(lines: list[str]) -> str:
    """A street address in running text, e.g. "We are at 2255 N High St, Columbus, OH 43202".

    Each line is tried alone and joined with the next, since ``<br>`` often splits the
    street from the city.
    """
    pairs = [f"{first}, {second}" for first, second in itertools.pairwise(lines)]
    for text in [*lines, *pairs]:  # whole lines first: a pair may start in the line before
        found = _STREET_ADDRESS.search(text) or _EUROPEAN_ADDRESS.search(text)
        if found:
            return found.group(0)
    return ""


def _looks_like_phone(line: str) -> bool:
    digits = re.sub(r"\D", "", line)
    return len(digits) >= 7 and len(digits) >= 0.6 * len(re.sub(r"\s", "", line))


# -- hours -----------------------------------------------------------------------------------


def _working_hours(page: _Page) -> str:
    schedule = _schedule_from_specification(page.business.get("openingHoursSpecification"))
    if schedule:
        return format_hours(schedule)
    stated = page.business.get("openingHours")
    if stated:
        texts = [_plain(s) for s in (stated if isinstance(stated, list) else [stated])]
        return format_hours(parse_hours("; ".join(texts))) or "; ".join(texts)
    return _visible_hours(page)


_HOURS_HEADINGS = re.compile(
    r"\b(hours|opening times|when we.?re open|horario|horarios|offnungszeiten|sprechzeiten|"
    r"horaires|heures d.ouverture)\b"
)
_HOURS_MARKS = ("hours", "horario", "oeffnungszeiten", "öffnungszeiten", "horaires", "opening")


def _visible_hours(page: _Page) -> str:
    """The hours block that states the most days; else any lines that state some."""
    blocks = [_lines(node) for node in _marked_sections(page, _HOURS_MARKS)]
    blocks += [
        [line for n in section for line in _lines(n)]
        for section in _headed_sections(page, _HOURS_HEADINGS)
    ]
    best = max((parse_hours("\n".join(b)) for b in blocks), key=len, default={})
    if not best:
        best = parse_hours("\n".join(line for line in _lines(page.body) if parse_hours(line)))
    return format_hours(best)


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _schedule_from_specification(value: Any) -> dict[int, list[tuple[str, str]]]:
    specs = value if isinstance(value, list) else [value]
    schedule: dict[int, list[tuple[str, str]]] = {}
    for spec in (s for s in specs if isinstance(s, dict)):
        opens, closes = _clock(spec.get("opens")), _clock(spec.get("closes"))
        days = spec.get("dayOfWeek") or []
        for day in days if isinstance(days, list) else [days]:
            name = str(day).rstrip("/").rsplit("/", 1)[-1]
            if name in _WEEKDAYS and opens and closes and opens != closes:
                schedule.setdefault(_WEEKDAYS.index(name), []).append((opens, closes))
    return schedule


def _clock(value: Any) -> str:
    found = re.match(r"\s*(\d{1,2}):(\d{2})", str(value or ""))
    return f"{int(found.group(1)):02d}:{found.group(2)}" if found else ""


# Day names as they are written, accents folded, mapped to 0 = Monday.
_DAY_NAMES: dict[str, int] = {
    **{d.lower(): i for i, d in enumerate(_WEEKDAYS)},
    **dict.fromkeys(("lunes", "lundi", "montag"), 0),
    **dict.fromkeys(("martes", "mardi", "dienstag"), 1),
    **dict.fromkeys(("miercoles", "mercredi", "mittwoch"), 2),
    **dict.fromkeys(("jueves", "jeudi", "donnerstag"), 3),
    **dict.fromkeys(("viernes", "vendredi", "freitag"), 4),
    **dict.fromkeys(("sabado", "samedi", "samstag", "sonnabend"), 5),
    **dict.fromkeys(("domingo", "dimanche", "sonntag"), 6),
}
# Abbreviations count only where a list, a range or a time follows ("we are" is not "We").
_DAY_ABBREVIATIONS: dict[str, int] = {
    **dict.fromkeys(("mon", "mo", "lun", "lu"), 0),
    **dict.fromkeys(("tue", "tues", "tu", "mar", "di"), 1),
    **dict.fromkeys(("wed", "weds", "we", "mie", "mer", "mi"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "th", "jue", "jeu", "do"), 3),
    **dict.fromkeys(("fri", "fr", "vie", "ven"), 4),
    **dict.fromkeys(("sat", "sa", "sab", "sam"), 5),
    **dict.fromkeys(("sun", "su", "dom", "dim", "so"), 6),
}
_DAY_GROUPS: dict[str, tuple[int, ...]] = {
    "daily": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekday": tuple(range(5)),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "werktags": tuple(range(5)),
}
_RANGE_WORDS = frozenset(
    {"to", "thru", "through", "till", "til", "until", "a", "al", "bis", "au", "-"}
)
_LIST_WORDS = frozenset({",", "&", "and", "y", "und", "et", "+", "/"})
_CLOSED_WORDS = frozenset({"closed", "cerrado", "geschlossen", "ferme", "ruhetag"})

# Phrases rewritten before tokenising, so that "Open 7 days" and "24/7" read as days.
_HOURS_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"24\s*/\s*7|24\s*h(ou)?rs?\s*(a day|/\s*24)?|open 24 hours"),
        " daily 00:00-24:00 ",
    ),
    (
        re.compile(
            r"\b(7|seven) days( a week)?|every ?day|todos los dias|tous les jours|"
            r"taglich|all week"
        ),
        " daily ",
    ),
    (re.compile(r"\b(noon|midday|mediodia|midi|mittag)\b"), " 12:00 "),
    (re.compile(r"\b(midnight|medianoche|minuit|mitternacht)\b"), " 24:00 "),
    (re.compile(r"\buhr\b"), " "),
)
_HOURS_TOKEN = re.compile(
    r"(?P<time>(?<![\d/])\d{1,2}(?:[:.h]\d{2}|\s?h(?:\s?\d{2})?\b)?(?:\s*[ap]\.?\s?m\b\.?)?(?![\d/]))"
    r"|(?P<word>[a-z]+)|(?P<mark>[-,&+/;\n|])"
)


def parse_hours(text: str) -> dict[int, list[tuple[str, str]]]:
    """Opening hours written by people, as day (0 = Monday) → ``[("09:00", "18:00"), ...]``.

    Reads "Mon–Fri 9am-6pm", "Tues thru Sat: 10 to 7", "Mo-Fr 09:00-18:00", "Open 7 days",
    "De lunes a viernes de 9:00 a 14:00" and "Du mardi au samedi : 7h – 19h30". Closed days
    are left out.

    >>> parse_hours("Mon-Wed 9am-5pm")
    {0: [('09:00', '17:00')], 1: [('09:00', '17:00')], 2: [('09:00', '17:00')]}
    """
    folded = _fold(text).replace("–", "-").replace("—", "-").replace("−", "-")
    for pattern, replacement in _HOURS_PHRASES:
        folded = pattern.sub(replacement, folded)
    tokens = [
        m.group(0) if m.group("mark") else re.sub(r"\s", "", m.group(0))
        for m in _HOURS_TOKEN.finditer(folded)
    ]
    return {d: r for d, r in sorted(_read_hours_tokens(tokens).items()) if r}


def _read_hours_tokens(tokens: list[str]) -> dict[int, list[tuple[str, str]]]:
    reader = _HoursReader()
    i = 0
    while i < len(tokens):
        days, used = _days_at(tokens, i)
        if days:
            reader.days(days)
        else:
            span, used = _time_range_at(tokens, i)
            if span or tokens[i] in _CLOSED_WORDS:
                reader.hours(span)
            elif tokens[i] in _HARD_BREAKS:
                reader.hard_break()
        i += used or 1
    return reader.schedule


_HARD_BREAKS = frozenset({";", "\n", "|"})


@dataclass
class _HoursReader:
    """Days accumulate until hours (or "closed") are given to them; "9-5 Mon-Fri" works too."""

    schedule: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    pending: list[int] = field(default_factory=list)
    given: bool = False  # whether the pending days already got their hours
    orphan: tuple[str, str] | None = None  # hours read before any day
    time_first: bool = False  # the text writes hours before days: "11AM-10PM Sun-Thu, ..."
    last: tuple[str, str] | None = None  # the hours given last

    def days(self, days: list[int]) -> None:
        if self.given and self.time_first and self.last:  # "11AM-11PM Fri & Sat": more days
            self.pending = days
            self._give(self.last)
            return
        if self.given:
            self.pending, self.given = [], False
        self.pending += days
        if self.orphan:
            self._give(self.orphan)
            self.orphan, self.time_first = None, True

    def hours(self, span: tuple[str, str] | None) -> None:
        if self.given and self.time_first:  # in time-first text, new hours start a new group
            self.pending, self.given = [], False
        if self.pending:
            self._give(span)
        else:
            self.orphan = span

    def _give(self, span: tuple[str, str] | None) -> None:
        for day in self.pending:
            spans = self.schedule.setdefault(day, [])
            if span and span not in spans:
                spans.append(span)
        self.given, self.last = True, span

    def hard_break(self) -> None:
        """A new line or ";" ends a group that got its hours: "Mon 9-5; 10-2 Sat"."""
        if self.given:
            self.pending, self.given, self.time_first = [], False, False


def _days_at(tokens: list[str], i: int) -> tuple[list[int], int]:
    """The days named at ``tokens[i]`` (a day, a range of days or a group) and tokens used."""
    if tokens[i] in _DAY_GROUPS:
        return list(_DAY_GROUPS[tokens[i]]), 1
    first = _day(tokens, i)
    if first is None:
        return [], 0
    if i + 2 < len(tokens) and tokens[i + 1] in _RANGE_WORDS:
        last = _day(tokens, i + 2)
        if last is not None:
            return [(first + k) % 7 for k in range((last - first) % 7 + 1)], 3
    return [first], 1


def _day(tokens: list[str], i: int) -> int | None:
    word = tokens[i]
    for form in (word, word[:-1] if word.endswith("s") else word):
        if form in _DAY_NAMES:
            return _DAY_NAMES[form]
    if word in _DAY_ABBREVIATIONS:
        after = tokens[i + 1] if i + 1 < len(tokens) else "\n"
        listed = after in _RANGE_WORDS or after in _LIST_WORDS or after in {";", "\n", "|"}
        if listed or _is_time(after) or after in _CLOSED_WORDS or _day_name(after):
            return _DAY_ABBREVIATIONS[word]
    return None


def _day_name(word: str) -> bool:
    return word in _DAY_NAMES or (len(word) >= 3 and word in _DAY_ABBREVIATIONS)


_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2})|h)?\s*(?:([ap])\.?\s?m\.?)?")


def _is_time(token: str) -> bool:
    found = _TIME.fullmatch(token)
    return found is not None and int(found.group(1)) <= 24


def _time_range_at(tokens: list[str], i: int) -> tuple[tuple[str, str] | None, int]:
    if i + 2 >= len(tokens) or not (_is_time(tokens[i]) and _is_time(tokens[i + 2])):
        return None, 0
    if tokens[i + 1] not in _RANGE_WORDS:
        return None, 0
    return _resolve_range(tokens[i], tokens[i + 2]), 3


def _resolve_range(opening: str, closing: str) -> tuple[str, str]:
    """24-hour times for a range, settling am/pm the way a reader would ("10 to 7" → 10-19)."""
    oh, om, omer = _clock_parts(opening)
    ch, cm, cmer = _clock_parts(closing)
    if omer is None and cmer == "p" and oh < 12 and oh <= ch % 12:
        oh += 12  # "1-5pm": both afternoon
    elif cmer is None and ch < 12 and (ch, cm) <= (oh, om) and ch != 0:
        ch += 12  # "10 to 7", "10am-6": closing after opening
    if ch == 0 and (oh, om) > (0, 0):
        ch = 24  # closing at midnight
    if oh == 24:
        oh = 0
    return f"{oh:02d}:{om:02d}", f"{ch:02d}:{cm:02d}"


def _clock_parts(token: str) -> tuple[int, int, str | None]:
    found = _TIME.fullmatch(token)
    assert found is not None  # checked by _is_time
    hour, minute, meridiem = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if meridiem == "p" and hour < 12:
        hour += 12
    elif meridiem == "a" and hour == 12:
        hour = 0
    return hour, minute, meridiem


_DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def format_hours(schedule: dict[int, list[tuple[str, str]]]) -> str:
    """One readable line, consecutive days with the same hours grouped.

    >>> format_hours({0: [("09:00", "18:00")], 1: [("09:00", "18:00")], 5: [("10:00", "14:00")]})
    'Mo-Tu 09:00-18:00; Sa 10:00-14:00'
    """
    groups: list[tuple[int, int, list[tuple[str, str]]]] = []
    for day in sorted(d for d in schedule if schedule[d]):
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == schedule[day]:
            groups[-1] = (groups[-1][0], day, schedule[day])
        else:
            groups.append((day, day, schedule[day]))
    return "; ".join(_format_group(first, last, spans) for first, last, spans in groups)


def _format_group(first: int, last: int, spans: list[tuple[str, str]]) -> str:
    days = _DAY_CODES[first] if first == last else f"{_DAY_CODES[first]}-{_DAY_CODES[last]}"
    return f"{days} " + ", ".join(f"{o}-{c}" for o, c in spans)


# -- services, FAQ, links ----------------------------------------------------------------------


def _services(page: _Page) -> str:
    return _join(_schema_services(page.business)) or _visible_services(page)


def _schema_services(business: dict[str, Any]) -> Iterator[str]:
    yield from _offer_names(business.get("hasOfferCatalog"))
    yield from _offer_names(business.get("makesOffer"))
    for key in ("availableService", "serviceType"):
        values = business.get(key) or []
        for value in values if isinstance(values, list) else [values]:
            yield _plain(value)


def _offer_names(value: Any) -> Iterator[str]:
    """Names in an OfferCatalog/Offer tree: catalogs nest catalogs, offers wrap services."""
    if isinstance(value, list):
        for element in value:
            yield from _offer_names(element)
    elif isinstance(value, dict):
        kinds = _types(value)
        if "OfferCatalog" in kinds or "itemListElement" in value:
            yield from _offer_names(value.get("itemListElement"))
        elif "itemOffered" in value:
            yield from _offer_names(value["itemOffered"])
        else:
            yield _plain(value.get("name", ""))
    elif isinstance(value, str):
        yield _plain(value)


_SERVICE_HEADINGS = re.compile(
    r"\b(services?|(what )?we (also )?(do|offer)|how we can help|treatments|practice areas|"
    r"areas of practice|we speciali[sz]e|"
    r"specialt(y|ies)|specialities|classes|programs|programmes|leistungen|unsere leistungen|"
    r"servicios|especialidades|tratamientos|prestations|nos services|nos specialites|"
    r"nos produits)\b"
)
_ITEM_DETAIL = re.compile(r"\s+[–—-]\s+|:\s+|\s+\(|\s+\$|\s+·\s+|\s+\|\s+|\s+€|\s+£")


def _visible_services(page: _Page) -> str:
    for section in _headed_sections(page, _SERVICE_HEADINGS):
        names = [name for node in section for name in _item_names(node)]
        if len(names) >= 2:
            return _join(names)
    return _join(_first_content_list(page) or _card_titles(page))


def _first_content_list(page: _Page) -> list[str]:
    """Small businesses often list what they do under a heading of their own words ("Jobs I
    do every week"); the first short list outside navigation is most often that."""
    lists: list[tuple[list[str], bool]] = []
    for listing in page.tree.css("ul, ol"):
        items = listing.css("li")
        linked = sum(bool(item.css_first("a")) for item in items)
        if _inside(listing, {"nav", "header", "footer"}) or linked > len(items) // 2:
            continue
        names = list(_item_names(listing))
        if 2 <= len(names) <= 15 and all(len(n) <= 60 for n in names):
            lists.append((names, _priced(listing)))
    # a priced list is more often a menu than the services; take it only if it is all there is
    return next((names for names, priced in lists if not priced), lists[0][0] if lists else [])


def _card_titles(page: _Page) -> list[str]:
    """Titles of a row of cards, each with one small heading: "Residential | Commercial"."""
    for row in page.tree.css("div, section"):
        cards = [child for child in row.iter() if child.is_element_node]
        headings = [card.css("h3, h4") for card in cards]
        if len(cards) >= 3 and all(len(found) == 1 for found in headings):
            titles = [_text(found[0]) for found in headings]
            if all(0 < len(t) <= 60 and not t.endswith("?") for t in titles):
                return titles
    return []


def _priced(listing: LexborNode) -> bool:
    items = [_text(item) for item in listing.css("li")]
    return sum(bool(re.search(r"[$€£]\s?\d|\d\s?[$€£]", item)) for item in items) > len(items) // 2


def _item_names(node: LexborNode) -> Iterator[str]:
    """Names of the items listed in a section: list items, or the card titles."""
    items = node.css("li") or node.css("tr > td:first-child") or node.css("h3, h4, dt")
    if not items and node.tag in {"li", "h3", "h4"}:
        items = [node]
    for item in items:
        label = item.css_first("strong, b, h3, h4")
        name = _text(label) if label else _ITEM_DETAIL.split(_text(item), maxsplit=1)[0]
        if 1 < len(name) <= 80:
            yield name.strip(" .:")


_FAQ_HEADINGS = re.compile(
    r"\b(faqs?|frequently asked|common questions|questions|preguntas|haufige fragen|fragen|"
    r"questions frequentes|foire aux questions)\b"
)


def _faq(page: _Page) -> str:
    pairs = _schema_faq(page) or _details_faq(page) or _headed_faq(page)
    return _join((f"{_as_question(q)} {a}" for q, a in pairs if q and a), " | ")


def _as_question(text: str) -> str:
    return text if text.endswith(("?", "？")) else f"{text}?"


def _schema_faq(page: _Page) -> list[tuple[str, str]]:
    return [
        (_plain(q.get("name", "")), _plain(_dig(q.get("acceptedAnswer"), "text") or ""))
        for q in page.items_of_type("Question")
    ]


def _details_faq(page: _Page) -> list[tuple[str, str]]:
    pairs = []
    for details in page.tree.css("details"):
        summary = details.css_first("summary")
        if summary is None:
            continue
        question = _text(summary)
        answer = " ".join(_lines(details)).removeprefix(question).strip()
        pairs.append((question, answer))
    return pairs


def _headed_faq(page: _Page) -> list[tuple[str, str]]:
    for section in _headed_sections(page, _FAQ_HEADINGS):
        pairs = [pair for node in section for pair in _definition_pairs(node)]
        pairs = pairs or _question_heading_pairs(section)
        if pairs:
            return pairs
    return []


def _definition_pairs(node: LexborNode) -> list[tuple[str, str]]:
    terms = node.css("dt")
    return [(_text(dt), _text(_next_element(dt))) for dt in terms if _next_element(dt)]


def _question_heading_pairs(section: list[LexborNode]) -> list[tuple[str, str]]:
    """``<h3>Question?</h3><p>Answer</p>`` runs, possibly each wrapped in a div."""
    flat = [n for node in section for n in (node.css("h3, h4, h5, strong, p") or [node])]
    pairs = []
    for here, after in itertools.pairwise(flat):
        question = _text(here)
        if question.endswith("?") and not _text(after).endswith("?"):
            pairs.append((question, _text(after)))
    return pairs


_SOCIAL_HOSTS = ("facebook.com", "instagram.com", "twitter.com", "x.com", "linkedin.com",
                 "youtube.com", "tiktok.com", "yelp.com", "pinterest.com", "threads.net",
                 "nextdoor.com", "tripadvisor.com", "houzz.com", "bsky.app")  # fmt: skip


def _social_links(page: _Page) -> str:
    same_as = page.business.get("sameAs") or []
    hrefs = [
        *(same_as if isinstance(same_as, list) else [same_as]),
        *(a.attributes.get("href") or "" for a in page.tree.css("a[href]")),
    ]
    return _join((str(h).rstrip("/") for h in hrefs if _is_social(str(h))), ", ")


def _is_social(href: str) -> bool:
    host = urlsplit(href).hostname or ""
    return any(host == s or host.endswith("." + s) for s in _SOCIAL_HOSTS)


def _price_range(page: _Page) -> str:
    return _plain(page.business.get("priceRange", ""))


def _industry_hints(page: _Page) -> str:
    """The business's schema.org types, the most specific first."""
    kinds = sorted(_types(page.business), key=lambda t: (t in {"LocalBusiness", "Organization"}, t))
    return ", ".join(kinds)


_READERS = {
    "business_website_title": _website_title,
    "business_language": _language,
    "business_name": _name,
    "business_description": _description,
    "business_phone": _phone,
    "business_email": _email,
    "business_address": _address,
    "business_working_hours": _working_hours,
    "business_services": _services,
    "business_faq": _faq,
    "business_social_links": _social_links,
    "business_price_range": _price_range,
    "business_industry_hints": _industry_hints,
}
