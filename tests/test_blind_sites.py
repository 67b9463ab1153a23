"""The extractor on held-out sites it was never tuned on.

``tests/blind_sites/`` holds small-business home pages written for issue 17 without looking
at how the extractor would read them, with their hand-written truth in ``truth.json``. They
are not served as samples and must never be tuned against one by one: a miss here is fixed in
general (a rule that holds for any site, tested on its own inline page in
``test_extract.py``), or left as a miss. ``pytest -s`` prints the tables.

The first run, before any change to the extractor, scored 113 of 133 stated facts (0.85):
title, name, phone, email, FAQ 1.00; description, address, hours 0.92 (12/13); language 0.85
(11/13, markup that lies); services 0.54 (7/13: hours lists, selling points and prose-only
offers); social links 0.36 (4/11: share buttons kept); price range 0.33 (1/3: "$$" in the
text); industry 0.92 (12/13). Once its misses had been fixed in general these sites were
no longer blind, so a second round of 8 sites (``"round": 2``) was written after the fixes and
scored once before any further change: 80 of 82 (0.98), every field 1.00 but services 0.75
(6/8: a Spanish "Hacemos …" sentence, and "Eat in, carry out … We also cater …"); industry
1.00. Both were fixed in general too; the floors now guard all 21 sites as a regression set.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from newo_nb.simulator._catalog import answer_matches
from newo_nb.simulator._extract import QUESTIONS, extract_facts
from newo_nb.simulator._industry import INDUSTRIES, classify_industry

BLIND = Path(__file__).parent / "blind_sites"

# lowest acceptable share, on every field, of the blind sites whose stated value is read right
FLOOR = 0.95
INDUSTRY_FLOOR = 0.9


@dataclass(frozen=True)
class BlindSite:
    slug: str
    industry: str
    truth: dict[str, str]
    round: int  # 1: written before any change; 2: written after the fixes, scored once

    @property
    def html(self) -> str:
        return (BLIND / self.slug / "index.html").read_text(encoding="utf-8")

    @property
    def url(self) -> str:
        return f"https://{self.slug}.example.com/"


def _blind_sites() -> list[BlindSite]:
    records = json.loads((BLIND / "truth.json").read_text(encoding="utf-8"))
    return [BlindSite(r["slug"], r["industry"], r["truth"], r["round"]) for r in records]


SITES = _blind_sites()


def _score(sites: list[BlindSite]) -> tuple[dict[str, tuple[int, int]], dict[str, list[str]]]:
    """question → (right, stated), plus "overall"; and question → the misses, with answers."""
    right: Counter[str] = Counter()
    stated: Counter[str] = Counter()
    misses: defaultdict[str, list[str]] = defaultdict(list)
    for site in sites:
        answers = {fact.question: fact.answer for fact in extract_facts(site.html, site.url)}
        for question, expected in site.truth.items():
            ok = answer_matches(question, expected, answers.get(question, ""))
            stated[question] += 1
            right[question] += ok
            if not ok:
                misses[question].append(f"{site.slug}: {answers.get(question, '')!r}")
    table = {q: (right[q], stated[q]) for q in QUESTIONS if stated[q]}
    table["overall"] = (sum(right.values()), sum(stated.values()))
    return table, misses


def _print_table(
    title: str, table: dict[str, tuple[int, int]], misses: dict[str, list[str]]
) -> None:
    print(f"\n{title}\n{'field':26} {'right':>5} {'of':>4} {'accuracy':>9}")
    for question, (ok, total) in table.items():
        print(f"{question:26} {ok:5d} {total:4d} {ok / total:9.2f}")
        for miss in misses.get(question, []):
            print(f"    missed {miss}")


@pytest.fixture(scope="module")
def accuracy() -> dict[str, tuple[int, int]]:
    """The whole blind set's table; each round's is printed too."""
    for round_ in sorted({site.round for site in SITES}):
        _print_table(f"round {round_}", *_score([s for s in SITES if s.round == round_]))
    table, misses = _score(SITES)
    _print_table("all blind sites", table, misses)
    return table


def test_blind_set_is_broad() -> None:
    assert len(SITES) >= 10
    assert {site.round for site in SITES} == {1, 2}
    assert len({site.slug for site in SITES}) == len(SITES)
    assert all(site.industry in INDUSTRIES for site in SITES)
    assert len({site.industry for site in SITES}) >= 10
    languages = {site.truth["business_language"] for site in SITES}
    assert {"English", "Spanish", "German", "French"} <= languages


def test_blind_sites_are_not_samples() -> None:
    from newo_nb.simulator._catalog import load_catalog

    assert not {site.slug for site in SITES} & {site.slug for site in load_catalog()}


@pytest.mark.parametrize("question", [q for q in QUESTIONS if any(q in s.truth for s in SITES)])
def test_blind_field_accuracy(accuracy: dict[str, tuple[int, int]], question: str) -> None:
    ok, total = accuracy[question]
    assert ok / total >= FLOOR, f"{question}: {ok}/{total}"


def test_blind_industry_classification() -> None:
    wrong = []
    for site in SITES:
        industry = classify_industry(extract_facts(site.html, site.url))
        if industry != site.industry:
            wrong.append(f"{site.slug}: {industry} (expected {site.industry})")
    share = 1 - len(wrong) / len(SITES)
    print(f"\nblind industry classification: {share:.2f}", *wrong, sep="\n  ")
    assert share >= INDUSTRY_FLOOR, wrong
