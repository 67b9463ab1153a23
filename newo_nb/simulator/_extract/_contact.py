"""How to reach the business: phone, email and street address."""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import unquote

from ._hours import parse_hours
from ._page import Page, dig, headed_sections, marked_sections
from ._text import fold, plain, visible_lines, visible_text


def read_phone(page: Page) -> str:
    contact = page.business.get("contactPoint") or {}
    for value in (page.business.get("telephone"), dig(contact, "telephone")):
        stated = plain(value or "")
        if stated.startswith("tel:"):  # microdata on a link: the visible text is as written
            return _tel_link_text(page, stated) or stated.removeprefix("tel:")
        if stated:
            return stated
    link = page.tree.css_first('a[href^="tel:" i]')
    if link is not None:
        return _tel_link_text(page, link.attributes.get("href") or "")
    return _phone_in_text(page)


def _tel_link_text(page: Page, href: str) -> str:
    """A ``tel:`` link's text when it shows the number, else the number in its href."""
    for link in page.tree.css('a[href^="tel:" i]'):
        if (link.attributes.get("href") or "") == href:
            shown = visible_text(link)
            if len(re.sub(r"\D", "", shown)) >= 7:
                return re.sub(r"^[^\d(+]+", "", shown)  # "Call (303) 555-0112" → the number
    return unquote(href)[4:].strip()


# Where to look for a number written without its country code, after the page's own region.
_LIKELY_REGIONS = ("US", "GB", "CA", "AU", "DE", "FR", "ES", "IT", "NL", "IE", "NZ")


def _phone_in_text(page: Page) -> str:
    import phonenumbers  # deferred: its metadata is large

    text = "\n".join(visible_lines(page.body))
    for region in dict.fromkeys((phone_region(page), *_LIKELY_REGIONS)):
        # VALID, not POSSIBLE: "7.30 – 17.00" in an hours table is a possible number too.
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        )
        found = next((match.raw_string for match in matcher), "")
        if found:
            return found
    return ""


def phone_region(page: Page) -> str:
    """The country phone numbers on the page are local to: the address's, or the language's."""
    country = dig(page.business.get("address") or {}, "addressCountry")
    if isinstance(country, dict):
        country = country.get("name", "")
    if isinstance(country, str) and re.fullmatch(r"[A-Za-z]{2}", country.strip()):
        return country.strip().upper()
    tag = page.language
    parts = tag.split("-")
    if len(parts) > 1 and len(parts[1]) == 2:
        return parts[1].upper()
    return {"es": "ES", "de": "DE", "fr": "FR", "it": "IT", "pt": "PT", "nl": "NL"}.get(
        parts[0].lower(), "US"
    )


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)


def read_email(page: Page) -> str:
    contact = page.business.get("contactPoint") or {}
    for value in (page.business.get("email"), dig(contact, "email")):
        if plain(value or ""):
            return plain(value).removeprefix("mailto:")
    link = page.tree.css_first('a[href^="mailto:" i]')
    if link is not None:
        return unquote(link.attributes.get("href") or "")[7:].split("?")[0].strip()
    found = EMAIL.search("\n".join(visible_lines(page.body)))
    return found.group(0) if found else ""


def read_address(page: Page) -> str:
    schema = _schema_address(page.business.get("address"))
    if schema:
        return schema
    for node in [*page.tree.css("address"), *marked_sections(page, _ADDRESS_MARKS)]:
        found = _address_from_lines(visible_lines(node))
        if found:
            return found
    for section in headed_sections(page, _ADDRESS_HEADINGS):
        found = _address_from_lines([line for node in section[:3] for line in visible_lines(node)])
        if found:
            return found
    return _address_in_text(visible_lines(page.body))


def _schema_address(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, str):
        return plain(value)
    if not isinstance(value, dict):
        return ""
    region = " ".join(plain(value.get(k, "")) for k in ("addressRegion", "postalCode"))
    parts = (
        value.get("streetAddress"),
        value.get("addressLocality"),
        region.strip(),
        value.get("addressCountry"),
    )
    return ", ".join(p for p in (plain(part or "") for part in parts) if p)


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
        r"\b(phone|tel|call|fax|email|e-mail|telefon|telefono|copyright|rights)\b|©", fold(line)
    )
    return bool(labelled or EMAIL.search(line) or looks_like_phone(line) or parse_hours(line))


# "[Unit 2,] <number> <street>, <city>, <region> <postcode>", ending in a US/CA/UK/AU postcode.
_POSTCODE = (
    r"(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?"  # US: TX 78704
    r"|(?:[A-Z]{2}\s+|\([^)\n]{2,20}\)\s*)?[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # CA: (Québec) H2J 1J5
    r"|(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+\d{4}"  # AU: VIC 3065
    r"|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})"  # UK: BS8 4BU
)
_UNIT = r"(?i:(?:shop|unit|suite|ste|apt|level|floor)\s*\d+[A-Za-z]?,?\s+)?"
# "Unit 4, Cornmarket Arcade": a unit with no street number of its own
_UNIT_ALONE = r"(?i:shop|unit|suite)\s*\d+[A-Za-z]?"
_PO_BOX = r"(?i:p\.?\s?o\.?\s*box)\s+\d+"
_STREET_ADDRESS = re.compile(
    rf"\b(?:{_PO_BOX}|{_UNIT}\d{{1,6}}[A-Za-z]?|{_UNIT_ALONE}),?\s+[A-Za-z0-9][^@\n]{{2,120}}?[,\s]\s*"
    + _POSTCODE
    + r"\b"
)
# Continental Europe: "<street> <number>, <5-digit postcode> <city>", the number either side.
_LETTER = r"[^\W\d_]"
# A district may stand between street and postcode ("Alcalá 407, Centro, 68000 Oaxaca"), and
# a city may have up to four words ("Oaxaca de Juárez"), never a contact label.
_DISTRICT = rf"(?:\s*,\s*{_LETTER}[^\n@,\d]{{1,30}}?)?"
_CITY_WORD = rf"(?!(?i:tel|phone|fax|mail|e-mail|email|t[eé]l[eé]fono)\b){_LETTER}[\w'-]*"
_EUROPEAN_ADDRESS = re.compile(
    rf"(?:{_LETTER}[^\n@,]*?,?\s\d{{1,4}}[a-z]?|\d{{1,4}}[a-z]?,?\s{_LETTER}[^\n@,]*?)"
    rf"{_DISTRICT}\s*,\s*\d{{5}}\s+{_CITY_WORD}(?:\s{_CITY_WORD}){{0,3}}"
)


def _address_in_text(lines: list[str]) -> str:
    """A street address in running text, e.g. "We are at 2255 N High St, Columbus, OH 43202".

    Each line is tried alone, then joined with the next one and two, since ``<br>`` splits a
    footer's address over lines ("Unit 4, Cornmarket Arcade / Leeds / LS1 6DH").
    """
    pairs = [", ".join(pair) for pair in itertools.pairwise(lines)]
    triples = [", ".join(lines[i : i + 3]) for i in range(len(lines) - 2)]
    for text in [*lines, *pairs, *triples]:  # shortest first: a join may start too early
        found = _STREET_ADDRESS.search(text) or _EUROPEAN_ADDRESS.search(text)
        if found:
            return found.group(0)
    return ""


def looks_like_phone(line: str) -> bool:
    digits = re.sub(r"\D", "", line)
    return len(digits) >= 7 and len(digits) >= 0.6 * len(re.sub(r"\s", "", line))

