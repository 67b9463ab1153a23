"""Text helpers the readers share, one copy of each: visible lines, folding, joining.

>>> fold("Öffnungszeiten")
'offnungszeiten'
>>> language_code("Spanish (es)"), language_code("de-DE"), language_code("French")
('es', 'de', 'fr')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

MAX_ANSWER_CHARS = 2000
MAX_LIST_ITEMS = 25


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


def plain(value: Any) -> str:
    """Plain text from a scraped value: tags and scripts removed, whitespace collapsed."""
    if isinstance(value, list):
        value = next((v for v in value if v), "")
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    text = str(value)
    if "<" in text or "&" in text:
        fragment = LexborHTMLParser(f"<body>{text}</body>")
        text = "\n".join(visible_lines(fragment.body)) if fragment.body else ""
    return " ".join(text.split())


def visible_lines(node: LexborNode | None) -> list[str]:
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


def visible_text(node: LexborNode | None) -> str:
    return " ".join(visible_lines(node))


def fold(text: str) -> str:
    """Case- and accent-free text for keyword matching: "Öffnungszeiten" → "offnungszeiten"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def bounded(answer: str, limit: int = MAX_ANSWER_CHARS) -> str:
    if len(answer) <= limit:
        return answer
    return answer[: limit - 1].rsplit(" ", 1)[0] + "…"


def join_items(items: Iterable[str], separator: str = "; ") -> str:
    """Distinct non-empty items in order, at most ``MAX_LIST_ITEMS`` of them."""
    seen: dict[str, str] = {}
    for item in items:
        if item and fold(item) not in seen:
            seen[fold(item)] = item
    return separator.join(list(seen.values())[:MAX_LIST_ITEMS])


def inside(node: LexborNode, tags: set[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


_LANGUAGE_CODES = {"english": "en", "spanish": "es", "german": "de", "french": "fr",
                   "italian": "it", "portuguese": "pt", "dutch": "nl"}  # fmt: skip


def language_code(text: str) -> str:
    """The ISO 639 code in a language answer: "Spanish (es)", "es-ES", "es" and "Spanish" all
    give "es"; "" when none is recognised."""
    folded = fold(text).strip()
    tagged = re.search(r"\(([a-z]{2,3})\b", folded) or re.fullmatch(
        r"([a-z]{2,3})([-_].*)?", folded
    )
    if tagged:
        return tagged.group(1)
    return _LANGUAGE_CODES.get(folded.split(" ")[0], "")
