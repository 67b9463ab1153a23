"""The sample business websites the simulator serves, and what each one truly states.

Pure apart from reading the package's own data files. ``sites/<slug>/index.html`` is a
fictional business's home page; ``sites/catalog.json`` holds, per sample, its industry, the
owner who would fill the onboarding form (``customer``) and ``truth``: what the page states,
question by question, written by hand from the page. Slugs that start with ``_`` are pages
that say nothing about a business, kept for error tests; they are not in the catalog.

>>> site = load_catalog()[0]
>>> answer_matches("business_phone", site.truth["business_phone"], "+1 512-555-0134")
True
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypedDict

from ._extract import fold, language_code, parse_hours

__all__ = ["SampleCustomer", "SampleSite", "answer_matches", "load_catalog", "site_html"]

_SLUG = re.compile(r"_?[a-z0-9]+(?:-[a-z0-9]+)*")


class _RequiredCustomerFields(TypedDict):
    name: str
    email: str  # at the business's domain
    phone_number: str  # valid for country_code
    country_code: str  # ISO 3166-1 alpha-2


class SampleCustomer(_RequiredCustomerFields, total=False):
    """The owner who fills the onboarding form: keyword arguments for ``Customer``."""

    referral: str


@dataclass(frozen=True, slots=True)
class SampleSite:
    """One sample business: ``Customer(**site.customer, source=url)`` onboards its owner."""

    slug: str
    industry: str  # one of INDUSTRIES
    customer: SampleCustomer
    truth: dict[str, str]  # question → what the page states


@functools.cache
def load_catalog() -> tuple[SampleSite, ...]:
    """Every sample business, in catalog order (read once, then cached)."""
    text = _read_site_file("catalog.json")
    return tuple(_sample(record) for record in json.loads(text))


def _sample(record: dict[str, Any]) -> SampleSite:
    return SampleSite(
        slug=record["slug"],
        industry=record["industry"],
        customer=record["customer"],
        truth=dict(record["truth"]),
    )


def site_html(slug: str) -> str:
    """The home page of sample ``slug``.

    Raises ``ValueError`` for a slug that is not a plain name (so a URL cannot reach outside
    ``sites/``) and ``FileNotFoundError`` for one that does not exist.
    """
    if not _SLUG.fullmatch(slug):
        raise ValueError(f"{slug!r} is not a sample site slug: use lower-case words and dashes")
    return _read_site_file(slug, "index.html")


def _read_site_file(*parts: str) -> str:
    """A file under ``sites/``, read through importlib.resources so zipped installs work."""
    path = resources.files(__package__ or "newo_nb.simulator").joinpath("sites", *parts)
    if not path.is_file():
        raise FileNotFoundError(f"there is no sample site file {'/'.join(parts)!r}")
    return path.read_text(encoding="utf-8")


# -- fair comparison ---------------------------------------------------------------------------


def answer_matches(question: str, expected: str, answer: str) -> bool:
    """Whether a scraped ``answer`` says what ``expected`` says, as a person would judge it.

    Case, accents, punctuation and layout never matter. Phones compare by digits, hours by
    the days and times they state, lists (services, links, FAQ) by overlap of at least 0.8,
    names, titles and addresses by their words.
    """
    compare = _COMPARISONS.get(question, _same_words)
    return bool(expected.strip() and answer.strip()) and compare(expected, answer)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def _same_phone(expected: str, answer: str) -> bool:
    """Same number, with or without the country code or the trunk "0": "089 …" = "+49 89 …"."""
    a, b = (re.sub(r"\D", "", t).lstrip("0") for t in (expected, answer))
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 7 and long_.endswith(short) and len(long_) - len(short) <= 3


def _same_email(expected: str, answer: str) -> bool:
    return fold(expected).removeprefix("mailto:").strip() == fold(answer).strip()


def _same_hours(expected: str, answer: str) -> bool:
    wanted, got = _schedule(expected), _schedule(answer)
    if wanted and got:
        return wanted == got
    return _overlap(_words(expected), _words(answer)) >= 0.8


def _schedule(text: str) -> dict[int, list[tuple[str, str]]]:
    # "23:59" is how schema.org data says "until midnight"
    return {
        day: [(o, "24:00" if c == "23:59" else c) for o, c in spans]
        for day, spans in parse_hours(text).items()
    }


def _same_language(expected: str, answer: str) -> bool:
    return language_code(expected) == language_code(answer) != ""


# Street words written both ways; folded to one spelling before comparing addresses.
_ADDRESS_WORDS = {
    "street": "st", "avenue": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr",
    "suite": "ste", "north": "n", "south": "s", "east": "e", "west": "w", "strasse": "str",
}  # fmt: skip


def _same_address(expected: str, answer: str) -> bool:
    def words(text: str) -> list[str]:
        return [_ADDRESS_WORDS.get(w, w) for w in _words(text)]

    return _contains(words(expected), words(answer))


def _same_words(expected: str, answer: str) -> bool:
    return _contains(_words(expected), _words(answer))


def _contains(expected: list[str], answer: list[str]) -> bool:
    """Most expected words are in the answer, and the answer is mostly about them."""
    return _overlap(expected, answer) >= 0.8 and _overlap(answer, expected) >= 0.5


def _same_description(expected: str, answer: str) -> bool:
    # a description may be cut or extended by a sentence; it must still be the same text
    wanted, got = _words(expected), _words(answer)
    return _overlap(wanted, got) >= 0.8 and _overlap(got, wanted) >= 0.4


def _overlap(part: list[str], whole: list[str]) -> float:
    """The share of ``part``'s distinct words found in ``whole``."""
    distinct = set(part)
    return len(distinct & set(whole)) / len(distinct) if distinct else 0.0


def _same_items(expected: str, answer: str, separator: str = ";") -> bool:
    """Lists: each item matches an item containing its words (or contained in it); the
    matches must cover 0.8 of the longer list, so neither misses nor padding pass."""
    wanted = [set(_words(item)) for item in expected.split(separator) if _words(item)]
    got = [set(_words(item)) for item in answer.split(separator) if _words(item)]
    matched = sum(any(w <= g or g <= w for g in got) for w in wanted)
    return bool(wanted) and matched / max(len(wanted), len(got)) >= 0.8


def _same_links(expected: str, answer: str) -> bool:
    def urls(text: str) -> set[str]:
        return {re.sub(r"^(https?://)?(www\.)?", "", u.casefold()).rstrip("/")
                for u in re.split(r"[\s,;]+", text) if u}  # fmt: skip

    wanted, got = urls(expected), urls(answer)
    return bool(wanted) and len(wanted & got) / max(len(wanted), len(got)) >= 0.8


def _same_faq(expected: str, answer: str) -> bool:
    """Expected FAQ lists the questions ("Q1? | Q2?"); each must be asked in the answer."""
    asked = " ".join(_words(answer))
    questions = [" ".join(_words(q)) for q in expected.split("|") if _words(q)]
    found = sum(q in asked for q in questions)
    stated = answer.count("|") + 1
    return bool(questions) and found / max(len(questions), stated) >= 0.8


def _same_symbols(expected: str, answer: str) -> bool:
    return "".join(expected.split()).casefold() == "".join(answer.split()).casefold()


_COMPARISONS = {
    "business_phone": _same_phone,
    "business_email": _same_email,
    "business_working_hours": _same_hours,
    "business_language": _same_language,
    "business_address": _same_address,
    "business_description": _same_description,
    "business_services": _same_items,
    "business_social_links": _same_links,
    "business_faq": _same_faq,
    "business_price_range": _same_symbols,
}
