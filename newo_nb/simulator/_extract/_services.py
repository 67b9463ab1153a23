"""What the business offers: schema.org offers, else the list a services heading introduces,
else what the prose says it offers, else the first list that is about nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from selectolax.lexbor import LexborNode

from ._hours import is_hours_line
from ._page import Page, headed_sections, heading_before, schema_types
from ._prose import services_in_prose
from ._text import fold, inside, join_items, plain, visible_text


def read_services(page: Page) -> str:
    return join_items(_schema_services(page.business)) or _visible_services(page)


def _schema_services(business: dict[str, Any]) -> Iterator[str]:
    yield from _offer_names(business.get("hasOfferCatalog"))
    yield from _offer_names(business.get("makesOffer"))
    for key in ("availableService", "serviceType"):
        values = business.get(key) or []
        for value in values if isinstance(values, list) else [values]:
            yield plain(value)


def _offer_names(value: Any) -> Iterator[str]:
    """Names in an OfferCatalog/Offer tree: catalogs nest catalogs, offers wrap services."""
    if isinstance(value, list):
        for element in value:
            yield from _offer_names(element)
    elif isinstance(value, dict):
        kinds = schema_types(value)
        if "OfferCatalog" in kinds or "itemListElement" in value:
            yield from _offer_names(value.get("itemListElement"))
        elif "itemOffered" in value:
            yield from _offer_names(value["itemOffered"])
        else:
            yield plain(value.get("name", ""))
    elif isinstance(value, str):
        yield plain(value)


# Headings that introduce what a business offers, in English, Spanish, German and French.
_SERVICE_HEADINGS = re.compile(
    r"\b(services?|(what )?we (also )?(do|offer)|how we can help|treatments|therapies|"
    r"practice areas|areas of practice|we speciali[sz]e|specialt(y|ies)|specialities|classes|"
    r"programs|programmes|price list|prices|pricing|our work|"
    r"leistungen|unsere leistungen|\w*angebot|behandlungen|therapien|preise|was wir \w+|"
    r"servicios|especialidades|tratamientos|que hacemos|lo que hacemos|que ofrecemos|precios|"
    r"tarifas|prestations|nos services|nos specialites|nos produits|soins|tarifs|"
    r"domaines d.(intervention|expertise|competence)|ce que nous \w+)\b"
)
# Headings of sections that hold lists which are not services: hours, reasons, contact, team.
_OTHER_HEADINGS = re.compile(
    r"\b(hours|opening|open|horario|horarios|offnungszeiten|sprechzeiten|horaires|why|about|"
    r"contact|kontakt|contacto|team|equipo|equipe|reviews?|testimonials|faqs?|questions|"
    r"location|find us|visit us|payment|insurance|good to know|por que|warum|pourquoi|"
    r"avis|opiniones|bewertungen|awards|press|partners)\b"
)
_ITEM_DETAIL = re.compile(r"\s+[–—-]\s+|:\s+|\s+\(|\s+\$|\s+·\s+|\s+\|\s+|\s+€|\s+£")


def _visible_services(page: Page) -> str:
    """A list under a services heading; else the offer the prose states; else the first list
    that is not hours, reasons or contact details; else a row of card titles."""
    for section in headed_sections(page, _SERVICE_HEADINGS):
        names = [name for node in section for name in _item_names(node)]
        if len(names) >= 2 and not _mostly_hours(names):
            return join_items(names)
    return join_items(services_in_prose(page) or _first_content_list(page) or _card_titles(page))


def _first_content_list(page: Page) -> list[str]:
    """Small businesses often list what they do under a heading of their own words ("Jobs I
    do every week"): the first short list outside navigation whose heading is not about
    something else and whose items are not hours."""
    lists: list[tuple[list[str], bool]] = []
    for listing in page.tree.css("ul, ol"):
        items = listing.css("li")
        linked = sum(bool(item.css_first("a")) for item in items)
        if inside(listing, {"nav", "header", "footer"}) or linked > len(items) // 2:
            continue
        heading = heading_before(listing)
        if heading is not None and _OTHER_HEADINGS.search(fold(visible_text(heading))):
            continue
        names = list(_item_names(listing))
        short = 2 <= len(names) <= 15 and all(len(n) <= 60 for n in names)
        if short and not _mostly_hours(names):
            lists.append((names, _priced(listing)))
    # a priced list is more often a menu than the services; take it only if it is all there is
    return next((names for names, priced in lists if not priced), lists[0][0] if lists else [])


def _mostly_hours(names: list[str]) -> bool:
    return sum(is_hours_line(name) for name in names) > len(names) // 2


def _card_titles(page: Page) -> list[str]:
    """Titles of a row of cards, each with one small heading: "Residential | Commercial"."""
    for row in page.tree.css("div, section"):
        cards = [child for child in row.iter() if child.is_element_node]
        headings = [card.css("h3, h4") for card in cards]
        if len(cards) >= 3 and all(len(found) == 1 for found in headings):
            titles = [visible_text(found[0]) for found in headings]
            if all(0 < len(t) <= 60 and not t.endswith("?") for t in titles):
                return titles
    return []


def _priced(listing: LexborNode) -> bool:
    items = [visible_text(item) for item in listing.css("li")]
    return sum(bool(re.search(r"[$€£]\s?\d|\d\s?[$€£]", item)) for item in items) > len(items) // 2


def _item_names(node: LexborNode) -> Iterator[str]:
    """Names of the items listed in a section: list items, or the card titles."""
    items = node.css("li") or node.css("tr > td:first-child") or node.css("h3, h4, dt")
    if not items and node.tag in {"li", "h3", "h4"}:
        items = [node]
    for item in items:
        label = item.css_first("strong, b, h3, h4")
        text = visible_text(item)
        name = visible_text(label) if label else _ITEM_DETAIL.split(text, maxsplit=1)[0]
        if 1 < len(name) <= 80:
            yield name.strip(" .:")

