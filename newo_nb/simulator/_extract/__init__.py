"""Read a business home page into onboarding facts, the way Newo's scraper reports them.

Pure: no I/O and no event loop. ``extract_facts(html, url)`` returns one :class:`Fact` per
question the page answers, in :data:`QUESTIONS` order; questions the page is silent on are
absent. Every answer is plain, human-readable text.

Sources are tried from the most to the least reliable: schema.org data (JSON-LD and
microdata, read with ``extruct``), then ``<meta>``/OpenGraph, then the page structure (read
with ``selectolax``): ``tel:``/``mailto:`` links, ``<address>``, headed sections ("Hours",
"Services", "FAQ" in English, Spanish, German and French), ``<details>`` and ``<dl>``, and
last the prose ("We offer dine-in, takeout and catering").

The package is split by subject: ``_page`` (the parsed page and its schema.org items),
``_text`` (text helpers, one copy each), ``_about`` (title, name, description),
``_language``, ``_contact`` (phone, email, address), ``_hours``, ``_services`` and
``_details`` (FAQ, social links, price range, industry hints). :data:`QUESTION_TABLE` is the
one place that says which questions exist, in which order, at which stage, read by what.

>>> facts = extract_facts("<title>Joe's Pizza | Austin</title>", "https://joes.example.com")
>>> [(f.question, f.answer) for f in facts]
[('business_website_title', "Joe's Pizza | Austin"), ('business_name', "Joe's Pizza")]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..._types import Stage
from ._about import is_server_default, read_description, read_name, read_website_title
from ._contact import read_address, read_email, read_phone
from ._details import read_faq, read_industry_hints, read_price_range, read_social_links
from ._hours import format_hours, parse_hours, read_working_hours
from ._language import read_language
from ._page import Page
from ._services import read_services
from ._text import MAX_ANSWER_CHARS, bounded, fold, language_code

__all__ = [
    "MAX_ANSWER_CHARS",
    "QUESTIONS",
    "QUESTION_TABLE",
    "ExtractionError",
    "Fact",
    "Question",
    "extract_facts",
    "fold",
    "format_hours",
    "language_code",
    "parse_hours",
]

@dataclass(frozen=True, slots=True)
class Question:
    """One onboarding question: its name, the run stage that reports it, and its reader."""

    name: str
    stage: Stage
    read: Callable[[Page], str]


# The vocabulary, in the order the steps are emitted.
QUESTION_TABLE: tuple[Question, ...] = (
    Question("business_website_title", "preprocessing", read_website_title),
    Question("business_language", "preprocessing", read_language),
    Question("business_name", "stage", read_name),
    Question("business_description", "stage", read_description),
    Question("business_phone", "stage", read_phone),
    Question("business_email", "stage", read_email),
    Question("business_address", "stage", read_address),
    Question("business_working_hours", "stage", read_working_hours),
    Question("business_services", "stage", read_services),
    Question("business_faq", "stage", read_faq),
    Question("business_social_links", "stage", read_social_links),
    Question("business_price_range", "stage", read_price_range),
    Question("business_industry_hints", "postprocessing", read_industry_hints),
)
QUESTIONS: tuple[str, ...] = tuple(question.name for question in QUESTION_TABLE)


@dataclass(frozen=True, slots=True)
class Fact:
    """One answered question: ``Fact("business_phone", "(512) 555-0134", "stage")``."""

    question: str  # one of QUESTIONS
    answer: str  # plain text, human readable, never HTML
    stage: str  # "preprocessing" | "stage" | "postprocessing"


class ExtractionError(Exception):
    """The page says nothing usable about a business; the message says what to check."""


def extract_facts(html: str, url: str) -> list[Fact]:
    """Every fact ``html`` (fetched from ``url``) states, in :data:`QUESTIONS` order.

    Raises :class:`ExtractionError` when the page has no title, schema.org data or
    description, which is what a parked domain, a server's default page or a JavaScript
    shell looks like.
    """
    page = Page.parse(html, url)
    answers = {question: question.read(page) for question in QUESTION_TABLE}
    stated = any(
        answer
        for question, answer in answers.items()
        if question.name in {"business_name", "business_website_title", "business_description"}
    )
    if not stated or (is_server_default(page) and not page.business):
        raise ExtractionError(
            f"{url} says nothing about a business: no title, schema.org data or description "
            "was found. Check that `source` is the business's home page."
        )
    return [Fact(q.name, bounded(a), q.stage) for q, a in answers.items() if a]
