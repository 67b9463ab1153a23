"""The other readers: FAQ, social profile links, price range and industry hints."""

from __future__ import annotations

import itertools
import re
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborNode

from ._page import Page, dig, headed_sections, next_element, schema_types
from ._text import join_items, plain, visible_lines, visible_text

_FAQ_HEADINGS = re.compile(
    r"\b(faqs?|frequently asked|common questions|questions|preguntas|haufige fragen|fragen|"
    r"questions frequentes|foire aux questions)\b"
)


def read_faq(page: Page) -> str:
    pairs = _schema_faq(page) or _details_faq(page) or _headed_faq(page)
    return join_items((f"{_as_question(q)} {a}" for q, a in pairs if q and a), " | ")


def _as_question(text: str) -> str:
    return text if text.endswith(("?", "？")) else f"{text}?"


def _schema_faq(page: Page) -> list[tuple[str, str]]:
    return [
        (plain(q.get("name", "")), plain(dig(q.get("acceptedAnswer"), "text") or ""))
        for q in page.items_of_type("Question")
    ]


def _details_faq(page: Page) -> list[tuple[str, str]]:
    pairs = []
    for details in page.tree.css("details"):
        summary = details.css_first("summary")
        if summary is None:
            continue
        question = visible_text(summary)
        answer = " ".join(visible_lines(details)).removeprefix(question).strip()
        pairs.append((question, answer))
    return pairs


def _headed_faq(page: Page) -> list[tuple[str, str]]:
    for section in headed_sections(page, _FAQ_HEADINGS):
        pairs = [pair for node in section for pair in _definition_pairs(node)]
        pairs = pairs or _question_heading_pairs(section)
        if pairs:
            return pairs
    return []


def _definition_pairs(node: LexborNode) -> list[tuple[str, str]]:
    terms = node.css("dt")
    return [(visible_text(dt), visible_text(next_element(dt))) for dt in terms if next_element(dt)]


def _question_heading_pairs(section: list[LexborNode]) -> list[tuple[str, str]]:
    """``<h3>Question?</h3><p>Answer</p>`` runs, possibly each wrapped in a div."""
    flat = [n for node in section for n in (node.css("h3, h4, h5, strong, p") or [node])]
    pairs = []
    for here, after in itertools.pairwise(flat):
        question = visible_text(here)
        if question.endswith("?") and not visible_text(after).endswith("?"):
            pairs.append((question, visible_text(after)))
    return pairs


_SOCIAL_HOSTS = ("facebook.com", "instagram.com", "twitter.com", "x.com", "linkedin.com",
                 "youtube.com", "tiktok.com", "yelp.com", "pinterest.com", "threads.net",
                 "nextdoor.com", "tripadvisor.com", "houzz.com", "bsky.app")  # fmt: skip


def read_social_links(page: Page) -> str:
    """The business's own profiles; share buttons ("facebook.com/sharer…", "twitter.com/intent
    …", "pinterest.com/pin/create…") point at the social network, not at the business."""
    same_as = page.business.get("sameAs") or []
    hrefs = [
        *(same_as if isinstance(same_as, list) else [same_as]),
        *(a.attributes.get("href") or "" for a in page.tree.css("a[href]")),
    ]
    profiles: dict[str, str] = {}
    for href in (str(h).strip().rstrip("/") for h in hrefs):
        if _is_profile(href):
            profiles.setdefault(_profile_key(href), href)
    return join_items(profiles.values(), ", ")


# Path words of share, intent and widget links; a profile's path never holds them.
_ACTION_SEGMENTS = frozenset({
    "share", "sharer", "sharer.php", "share.php", "sharearticle", "intent", "dialog",
    "plugins", "send", "submit", "create", "widgets", "embed", "login", "search", "hashtag",
})  # fmt: skip
# Query keys that carry the page being shared: "?u=…", "?url=…", "?text=…".
_SHARED_PAGE_KEYS = frozenset({"u", "url", "text", "status", "href", "body", "media"})


def _is_profile(href: str) -> bool:
    parts = urlsplit(href)
    host = parts.hostname or ""
    if not any(host == s or host.endswith("." + s) for s in _SOCIAL_HOSTS):
        return False
    segments = [seg.casefold() for seg in parts.path.split("/") if seg]
    shared = {key.casefold() for key in parse_qs(parts.query)} & _SHARED_PAGE_KEYS
    return bool(segments) and not (_ACTION_SEGMENTS.intersection(segments) or shared)


def _profile_key(href: str) -> str:
    """The same profile however it is written: scheme, "www." and case do not matter."""
    parts = urlsplit(href.casefold())
    return (parts.hostname or "").removeprefix("www.") + parts.path.rstrip("/")


def read_price_range(page: Page) -> str:
    """schema.org's ``priceRange``, else a "$$" standing alone on a short line, as pages print
    it beside the name ("$ · Coffee shop · Asheville")."""
    stated = plain(page.business.get("priceRange", ""))
    if stated:
        return stated
    for line in visible_lines(page.body):
        found = _PRICE_RANGE.search(line) if len(line) <= _SHORT_LINE else None
        if found:
            return found.group("signs")
    return ""


# One to four of the same currency sign as a word of its own: not "$12", "48 €", "US$" or
# "$ 5"; "$$–$$$" gives its first end.
_PRICE_RANGE = re.compile(
    r"(?:^|(?<=[\s·•|,(–-]))(?<!\d\s)(?P<signs>([$€£])\2{0,3})(?=$|[\s·•|,)–-])(?!\s*\d)"
)
_SHORT_LINE = 80


def read_industry_hints(page: Page) -> str:
    """The business's schema.org types, the most specific first."""
    broad = {"LocalBusiness", "Organization"}
    kinds = sorted(schema_types(page.business), key=lambda t: (t in broad, t))
    return ", ".join(kinds)

