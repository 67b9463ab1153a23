"""The page's language: from its markup, checked against its text."""

from __future__ import annotations

import re

from ._page import Page
from ._text import plain, visible_text

_LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}


def read_language(page: Page) -> str:
    html = page.tree.css_first("html")
    tag = (html.attributes.get("lang") if html else None) or page.meta("content-language")
    tag = tag or page.og.get("og:locale", "") or plain(page.business.get("inLanguage", ""))
    tag = (tag or "").strip().replace("_", "-")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag):
        tag = _guess_language(visible_text(page.body))
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

