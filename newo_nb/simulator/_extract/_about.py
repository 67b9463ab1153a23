"""What the page says it is: its title, the business's name and its description."""

from __future__ import annotations

import re

from ._page import Page
from ._text import fold, inside, plain, visible_lines, visible_text

# Titles no business gives its page: a server's default page, a builder's placeholder.
_SERVER_DEFAULT_TITLE = re.compile(
    r"^(welcome to nginx!?|it works!?|index of .*|.*default page.*|coming soon|"
    r"under construction|404.*|page not found|react app|test page.*|.*domain .*for sale.*)$"
)
_PLACEHOLDER_TITLE = re.compile(
    _SERVER_DEFAULT_TITLE.pattern[:-2] + r"|untitled( document)?|document|home|loading.*|new tab)$"
)


def is_server_default(page: Page) -> bool:
    """A server's or builder's stock page: its text is about the software, not a business."""
    node = page.tree.css_first("title")
    heading = page.tree.css_first("h1")
    return any(_SERVER_DEFAULT_TITLE.match(fold(visible_text(n))) for n in (node, heading) if n)


def read_website_title(page: Page) -> str:
    node = page.tree.css_first("title")
    title = plain(node.text()) if node else ""
    title = title or page.og.get("og:title", "")
    return "" if _PLACEHOLDER_TITLE.match(fold(title)) else title


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


def read_name(page: Page) -> str:
    for explicit in (
        plain(page.business.get("name", "")),
        page.og.get("og:site_name", ""),
        page.meta("application-name"),
    ):
        if explicit:
            return explicit
    return _name_from_layout(page)


def _name_from_layout(page: Page) -> str:
    """The title segment the page's logo, footer or h1 confirms; else the likeliest one."""
    segments = [s for s in _title_segments(page) if not _GENERIC_SEGMENT.match(fold(s))]
    brand, logo, owner = _brand_text(page), _logo_alt(page), _copyright_holder(page)
    h1 = visible_text(page.tree.css_first("h1"))
    h1 = "" if _PLACEHOLDER_TITLE.match(fold(h1)) else _WELCOME.sub("", h1)
    witnesses = [w for w in (brand, logo, owner, h1) if w]
    for segment in segments:
        if any(_same_name(segment, w) for w in witnesses):
            return segment
    return next((n for n in (brand, logo, owner, *segments[:1], h1) if n), "")


def _title_segments(page: Page) -> list[str]:
    node = page.tree.css_first("title")
    title = plain(node.text()) if node else page.og.get("og:title", "")
    if _PLACEHOLDER_TITLE.match(fold(title)):
        return []
    return [_WELCOME.sub("", s).strip() for s in _TITLE_SEPARATORS.split(title) if s.strip()]


def _brand_text(page: Page) -> str:
    node = page.tree.css_first(
        'header .logo, header .brand, .site-title, .site-name, .navbar-brand, [class*="brand"]'
    )
    return visible_text(node) if node else ""


def _logo_alt(page: Page) -> str:
    node = page.tree.css_first('img[alt][class*="logo" i], img[alt][src*="logo" i]')
    alt = plain(node.attributes.get("alt") or "") if node else ""
    return re.sub(r"\s+logo$", "", alt, flags=re.IGNORECASE)


def _copyright_holder(page: Page) -> str:
    for line in reversed(visible_lines(page.body)):
        found = _COPYRIGHT.search(line)
        if found:
            return found.group(1).strip(" ,")
    return ""


def _same_name(a: str, b: str) -> bool:
    """Whether one name's words all appear in the other ("Joe's Pizza" in "Joe's Pizza LLC")."""
    wa, wb = set(re.findall(r"\w+", fold(a))), set(re.findall(r"\w+", fold(b)))
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def read_description(page: Page) -> str:
    for candidate in (
        plain(page.business.get("description", "")),
        page.meta("description"),
        page.og.get("og:description", ""),
    ):
        if candidate:
            return candidate
    return _first_paragraph(page)


def _first_paragraph(page: Page) -> str:
    """The first paragraph long enough to describe something, outside navigation and footer."""
    for paragraph in page.tree.css("main p, header p, section p, body p"):
        if inside(paragraph, {"footer", "nav", "form"}):
            continue
        text = visible_text(paragraph)
        if len(text) >= 80:
            return text
    return ""

