"""Facts a page states only in running text: "We offer dine-in, takeout and catering".

>>> offered_in("We offer tax preparation, bookkeeping, payroll and IRS representation.")
['Tax preparation', 'Bookkeeping', 'Payroll', 'IRS representation']
>>> offered_in("Sur place, à emporter et livraison le soir.")
['Sur place', 'À emporter', 'Livraison le soir']
>>> offered_in("We are open late on Fridays.")
[]
"""

from __future__ import annotations

import re

from ._page import Page
from ._text import inside, visible_text

__all__ = ["offered_in", "services_in_prose"]

# "We offer …", "we handle …", "ofrecemos …", "wir bieten …", "nous proposons …": what
# follows, to the end of the sentence, is the list of what the business offers.
_OFFER = re.compile(
    r"\b(?:we|our (?:team|shop|studio|clinic|office|practice))\s+(?:also\s+|proudly\s+)?"
    r"(?:offers?|provides?|handles?|speciali[sz]es? in|carry|carries|sells?|do|does)\s+"
    r"|\b(?:también\s+)?(?:ofrecemos|realizamos|nos especializamos en)\s+"
    r"|\bwir (?:bieten(?: ihnen)?|übernehmen|machen)\s+"
    r"|\bnous (?:proposons|offrons|assurons|réalisons)\s+",
    re.IGNORECASE,
)
# The ways a food or retail business serves people; two in one sentence make it a list of
# services even with no verb: "Sur place, à emporter, et privatisation de la salle."
_SERVICE_MODES = re.compile(
    r"\b(dine[- ]in|take[- ]?out|take[- ]?away|delivery|catering|curbside pickup|drive[- ]thru|"
    r"sur place|à emporter|livraison|para llevar|a domicilio|para comer aquí|servicio a "
    r"domicilio|zum mitnehmen|lieferservice|lieferung)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LAST_JOIN = re.compile(r"\s+(?:and|or|y|o|und|oder|et|ou|&)\s+", re.IGNORECASE)
_LEADING_JOIN = re.compile(r"^(?:and|or|y|o|und|oder|et|ou|&|as well as)\s+", re.IGNORECASE)
_NOT_AN_ITEM = re.compile(
    r"^(?:we|you|they|it|our|your|us|nous|vous|wir|sie|ihr|nosotros|usted)\b", re.IGNORECASE
)
_MAX_ITEM_WORDS = 8


def services_in_prose(page: Page) -> list[str]:
    """The first list of services the page's paragraphs state, outside navigation, footer and
    forms; a sentence with an offering verb wins over one that only names service modes."""
    sentences = [
        sentence
        for paragraph in page.tree.css("p")
        if not inside(paragraph, {"nav", "footer", "form"})
        for sentence in _SENTENCE_END.split(visible_text(paragraph))
    ]
    for sentence in sentences:
        found = offered_in(sentence)
        if found and _OFFER.search(sentence):
            return found
    return next((found for found in map(offered_in, sentences) if found), [])


def offered_in(sentence: str) -> list[str]:
    """The items a sentence says are offered, or [] when it lists no services."""
    verb = _OFFER.search(sentence)
    if verb:
        clause = sentence[verb.end():]
    elif len({m.casefold() for m in _SERVICE_MODES.findall(sentence)}) >= 2:
        clause = sentence
    else:
        return []
    items = _enumeration(clause)
    usable = all(
        item and len(item.split()) <= _MAX_ITEM_WORDS and not _NOT_AN_ITEM.match(item)
        for item in items
    )
    return [item[0].upper() + item[1:] for item in items] if usable and len(items) >= 2 else []


def _enumeration(clause: str) -> list[str]:
    """"a, b, c and d" → [a, b, c, d]; only the last "and" separates ("hair and beauty
    products, nails and lashes" keeps its first item whole)."""
    chunks = [c.strip() for c in re.split(r"\s*[,;]\s*", clause.strip().rstrip(".!?"))]
    *firsts, last = [c for c in chunks if c] or [""]
    return [_LEADING_JOIN.sub("", c).strip() for c in (*firsts, *_LAST_JOIN.split(last, 1))]
