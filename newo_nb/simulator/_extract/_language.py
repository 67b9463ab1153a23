"""The page's language: what its markup declares, unless its text plainly says otherwise.

Templates keep ``lang="en-US"`` on pages written in Spanish, so the declared tag is checked
against the text with a stop-word count over the languages the simulator serves (English,
Spanish, German and French). A small scorer is enough here: a whole page has hundreds of
words, and the common function words of these four languages barely overlap. (A detector
from PyPI was weighed: ``langdetect`` is unmaintained since 2021 and random unless seeded,
``lingua`` is ~100 MB, ``fasttext-langdetect`` downloads a model at run time.)

>>> text_language("Ramos de temporada y plantas para el salón, con entrega en el día "
...               "para los hoteles y las bodas del barrio.")
'es'
>>> effective_language("en-US", "Wir sind für Sie da und freuen uns auf Ihren Besuch in der "
...                    "Praxis, die mit dem Bus gut zu erreichen ist.")
'de'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._page import Page

__all__ = ["effective_language", "read_language", "text_language"]

_LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}

# Function words frequent in each language and rare in the other three (so no "de", "la",
# "en" or "die"); accents kept, since the text is only case-folded.
# fmt: off
_STOPWORDS = {
    "en": {"the", "and", "our", "with", "for", "you", "your", "we", "are", "of", "to", "is",
           "in", "on", "from", "by", "at", "or", "us", "all"},
    "es": {"el", "los", "las", "y", "con", "para", "nuestro", "nuestra", "nuestros", "somos",
           "del", "por", "una", "todos", "su", "sus", "más", "lunes", "tu", "también", "desde"},
    "de": {"der", "das", "und", "mit", "für", "wir", "ihr", "ist", "unsere", "unser", "sie",
           "ihre", "den", "dem", "auch", "bei", "nach", "oder", "bis", "uhr", "nur", "zu"},
    "fr": {"le", "les", "et", "avec", "pour", "nous", "notre", "vous", "est", "des", "du",
           "au", "aux", "sur", "une", "nos", "vos", "votre", "dans", "à"},
}
# fmt: on
_MIN_EVIDENCE = 5  # stop words a language needs before the text is said to be in it
_MARGIN = 2.0  # how many times the declared language's count the text's must reach


def _scores(text: str) -> dict[str, int]:
    words = re.findall(r"\w+", text.casefold())
    return {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}


def text_language(text: str) -> str:
    """The language ``text`` is written in, among en/es/de/fr; "" when it is too short."""
    scores = _scores(text)
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= _MIN_EVIDENCE else ""


def effective_language(declared: str, text: str) -> str:
    """``declared`` (a BCP 47 tag from the markup) unless ``text`` is clearly in another
    language, then that language's code. A declared language the scorer does not know
    (Italian, say) is trusted as it is."""
    tag = declared.strip().replace("_", "-")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag):
        return text_language(text)
    primary = tag.split("-")[0].lower()
    if primary not in _STOPWORDS:
        return tag
    scores = _scores(text)
    best = max(scores, key=lambda lang: scores[lang])
    plainly_other = best != primary and scores[best] >= _MIN_EVIDENCE
    if plainly_other and scores[best] >= _MARGIN * max(scores[primary], 1):
        return best
    return tag


def read_language(page: Page) -> str:
    tag = page.language
    return f"{_language_name(tag)} ({tag})" if tag else ""


def _language_name(tag: str) -> str:
    primary = tag.split("-")[0].lower()
    if primary in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[primary]
    import pycountry  # deferred: loads its databases on import

    found = pycountry.languages.get(alpha_2=primary) or pycountry.languages.get(alpha_3=primary)
    return found.name if found else primary
