"""Small analysis helpers for a batch's frames: what was found, how long it took, and how
the parsed answers compare with what the simulator's sample websites truly state.

Pure functions over the frames of :class:`newo_nb.OnboardingBatch` (``answers``,
``steps``, ``results``); no sockets, no plotting. Used by
``notebooks/02_batch_onboarding_eda.ipynb``.

>>> found = fields_found(batch.answers)                       # doctest: +SKIP
>>> checked = compare_with_truth(batch.answers, batch.results)  # doctest: +SKIP
>>> checked.groupby("question")["matches"].mean()             # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from .simulator._catalog import answer_matches, load_catalog

__all__ = [
    "TRUTH_COLUMNS",
    "answer_lengths",
    "compare_with_truth",
    "fields_found",
    "ground_truth",
    "sample_external_id",
    "step_durations",
]

TRUTH_COLUMNS: dict[str, str] = {
    "external_id": "string",  # as Simulator.sample_customers() names the business
    "slug": "string",  # the sample site's folder
    "industry": "string",  # the industry the sample was written as
    "question": "string",
    "expected": "string",  # what the page states, written by hand from the page
}


def sample_external_id(slug: str) -> str:
    """The ``external_customer_id`` that ``Simulator.sample_customers()`` gives a sample."""
    return f"sample-{slug}"


def ground_truth() -> pd.DataFrame:
    """What each sample website states, one row per business and question.

    Columns: external_id, slug, industry, question, expected (all ``string``). The
    industry is the sample's own (compare it with the parsed ``results.industry``).
    """
    rows = [(sample_external_id(site.slug), site.slug, site.industry, question, expected)
            for site in load_catalog() for question, expected in site.truth.items()]
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame({name: pd.Series(values, dtype=dtype)
                         for (name, dtype), values in zip(TRUTH_COLUMNS.items(), columns,
                                                          strict=True)})


def fields_found(answers: pd.DataFrame) -> pd.DataFrame:
    """A boolean matrix: one row per business (index external_id), one column per question,
    True where the parser gave a non-empty answer."""
    table = answers.set_index("external_id").astype("string")
    given = table.notna() & (table.fillna("").apply(lambda column: column.str.strip()) != "")
    return given.astype(bool)


def answer_lengths(answers: pd.DataFrame) -> pd.DataFrame:
    """Long form of the answers that were given: external_id, question, characters (Int64)."""
    long = answers.melt(id_vars="external_id", var_name="question", value_name="answer")
    long = long[long["answer"].notna()]
    return pd.DataFrame({
        "external_id": long["external_id"].astype("string"),
        "question": long["question"].astype("string"),
        "characters": long["answer"].str.len().astype("Int64"),
    }).reset_index(drop=True)


def step_durations(steps: pd.DataFrame) -> pd.DataFrame:
    """The steps frame plus ``step_seconds``: how long each step took, i.e. seconds since
    the business's previous step (the first step: since its onboarding started)."""
    # the frame's own order within a business is the steps' display order (step numbers
    # may restart in each stage, so they cannot be sorted on)
    ordered = steps.sort_values("external_id", kind="stable")
    previous = ordered.groupby("external_id", observed=True)["seconds"].shift(1).fillna(0.0)
    return ordered.assign(step_seconds=(ordered["seconds"] - previous).astype("float64"))


def compare_with_truth(answers: pd.DataFrame, results: pd.DataFrame | None = None,
                       truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every stated fact of every sample business in ``answers``, next to what was parsed.

    Columns: external_id, industry (the sample's), question, expected, answer (<NA> if
    the parser gave none), found (bool), matches (bool: ``answer_matches`` judged the
    answer to say what the page says). With ``results``, an ``industry`` row per business
    compares the parsed industry with the sample's. Businesses that are not samples (no
    ground truth) are left out.
    """
    truth = ground_truth() if truth is None else truth
    facts = truth[truth["external_id"].isin(answers["external_id"])]
    if results is not None:
        facts = pd.concat([facts, _industry_facts(truth, answers)], ignore_index=True)
    parsed = answers.melt(id_vars="external_id", var_name="question", value_name="answer")
    if results is not None:
        parsed = _with_parsed_industry(parsed, results)
    merged = facts.merge(parsed, on=["external_id", "question"], how="left")
    answer = merged["answer"].astype("string")
    found = answer.notna() & (answer.fillna("").str.strip() != "")
    matches = [bool(ok) and answer_matches(q, e, a) for q, e, a, ok in
               zip(merged["question"], merged["expected"], answer.fillna(""), found,
                   strict=True)]
    return pd.DataFrame({
        "external_id": merged["external_id"].astype("string"),
        "industry": merged["industry"].astype("string"),
        "question": merged["question"].astype("string"),
        "expected": merged["expected"].astype("string"),
        "answer": answer,
        "found": found.astype(bool),
        "matches": pd.Series(matches, dtype=bool),
    })


def _industry_facts(truth: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    businesses = truth.drop_duplicates("external_id")
    businesses = businesses[businesses["external_id"].isin(answers["external_id"])]
    return businesses.assign(question="industry", expected=businesses["industry"])


def _with_parsed_industry(parsed: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """The parsed industry comes from ``results`` (notify_scraping_finished), not a step."""
    steps_only = parsed[parsed["question"] != "industry"]
    industry = pd.DataFrame({"external_id": results["external_id"], "question": "industry",
                             "answer": results["industry"].replace("", pd.NA)})
    return pd.concat([steps_only, industry], ignore_index=True)
