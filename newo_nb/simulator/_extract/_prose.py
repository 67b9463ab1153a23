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
    r"|\b(?:también\s+)?(?:ofrecemos|realizamos|hacemos|nos especializamos en)\s+"
    r"|\bwir (?:bieten(?: ihnen)?|übernehmen|machen)\s+"
    r"|\bnous (?:proposons|offrons|assurons|réalisons|faisons)\s+",
    re.IGNORECASE,
)
# The ways a food or retail business serves people; two in one sentence make it a list of
# services even with no verb: "Sur place, à emporter, et privatisation de la salle."
_SERVICE_MODES = re.compile(
    r"\b(dine[- ]in|eat[- ]in|take[- ]?out|take[- ]?away|carry[- ]?out|delivery|catering|"
    r"pick[- ]?up|curbside pickup|drive[- ]thru|"
    r"sur place|à emporter|livraison|para llevar|a domicilio|para comer aquí|servicio a "
    r"domicilio|zum mitnehmen|lieferservice|lieferung)\b",
    re.IGNORECASE,
)
# Verbs that name a service on their own: "We also cater parties" offers catering.
_SERVICE_VERBS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bwe (?:also )?cater\b", re.IGNORECASE), "Catering"),
    (re.compile(r"\bwe (?:also )?deliver\b", re.IGNORECASE), "Delivery"),
    (re.compile(r"\bnous (?:vous )?livrons\b", re.IGNORECASE), "Livraison"),
    (re.compile(r"\bwir liefern\b", re.IGNORECASE), "Lieferservice"),
    (re.compile(r"\b(?:también )?(?:entregamos|repartimos) a domicilio\b", re.IGNORECASE),
     "Servicio a domicilio"),
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
    forms; a sentence with an offering verb wins over one that only names service modes.
    Services a verb names elsewhere ("We also cater parties") are added to that list."""
    sentences = [
        sentence
        for paragraph in page.tree.css("p")
        if not inside(paragraph, {"nav", "footer", "form"})
        for sentence in _SENTENCE_END.split(visible_text(paragraph))
    ]
    offers = [offered_in(sentence) for sentence in sentences]
    with_verb = (found for found, s in zip(offers, sentences, strict=True) if _OFFER.search(s))
    listed = next((found for found in with_verb if found), []) or next(filter(None, offers), [])
    if not listed:
        return []
    said = " ".join(listed).casefold()
    named = [service for pattern, service in _SERVICE_VERBS if any(map(pattern.search, sentences))]
    return listed + [service for service in named if service.casefold() not in said]


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
