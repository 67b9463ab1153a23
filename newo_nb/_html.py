"""HTML of records, pure and escaped: a step table, a result card, a batch table, the HTML
reprs of :class:`~newo_nb.OnboardingResult` and :class:`~newo_nb.OnboardingBatch` (``result``
or ``batch`` alone in a cell), and the pieces the widgets draw with.

Everything that came from the service, a scraped website or the input is untrusted, so
every value goes through :func:`escape` (``html.escape`` with quotes) before it becomes
markup; the only unescaped text here is this module's own literals. Free of ipywidgets:
records render without importing the widgets, and it is tested as plain functions.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._frames import parse_answer

if TYPE_CHECKING:
    from ._batch import OnboardingBatch
    from ._protocol import StepEvent
    from ._state import OnboardingResult

__all__ = [
    "ANSWER_PREVIEW",
    "ANSWER_SHOWN",
    "BATCH_HEAD",
    "BATCH_ROWS_SHOWN",
    "BATCH_STYLE",
    "CARD",
    "CELL",
    "ERROR_PREVIEW",
    "ERROR_TITLE",
    "MUTED",
    "RESULT_STEPS_SHOWN",
    "batch_html",
    "batch_row",
    "batch_summary",
    "batch_table",
    "elapsed_text",
    "error_banner",
    "escape",
    "invalid_table",
    "result_card",
    "result_html",
    "step_row",
    "step_table",
]

ANSWER_PREVIEW = 120  # characters of an answer shown before "show all"
ANSWER_SHOWN = 5_000  # characters of an answer the table holds at most (w.steps has all)
MUTED = "color: var(--jp-ui-font-color2, #666)"
CELL = "padding: 2px 8px; text-align: left; vertical-align: top"
CARD = ("border: 1px solid var(--jp-border-color2, #ccc); border-radius: 6px; "
         "padding: 8px 12px; margin: 4px 0")


def escape(value: object) -> str:
    """Text as HTML: every markup character, quotes too, escaped."""
    return html.escape(str(value), quote=True)


_e = escape  # short: every value below goes through it


def elapsed_text(seconds: float) -> str:
    """``0:07``, ``1:05``, ``1:02:03``."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _answer_cell(answer: str) -> str:
    value = parse_answer(answer) if answer[:1] in ("{", "[") else answer
    if isinstance(value, dict | list):
        return _json_cell(value)
    if len(answer) <= ANSWER_PREVIEW:
        return _e(answer)
    preview = answer[:ANSWER_PREVIEW].rstrip()
    shown, cut = answer[:ANSWER_SHOWN], ""
    if len(answer) > ANSWER_SHOWN:  # every redraw sends the whole table: keep rows small
        cut = (f'<div style="{MUTED}">… first {ANSWER_SHOWN:,} characters shown; '
               "<code>w.steps</code> has the whole answer</div>")
    return (f"<details><summary>{_e(preview)}… <i>({len(answer):,} characters)</i></summary>"
            f'<div style="white-space: pre-wrap">{_e(shown)}</div>{cut}</details>')


def _json_cell(value: dict[str, Any] | list[Any]) -> str:
    """A JSON answer, readable: short ones inline, long ones folded and indented."""
    compact = json.dumps(value, ensure_ascii=False)
    if len(compact) <= ANSWER_PREVIEW:
        return f'<code class="newo-json">{_e(compact)}</code>'
    size = (f"JSON object, {len(value):,} keys" if isinstance(value, dict)
            else f"JSON array, {len(value):,} items")
    pretty = json.dumps(value, ensure_ascii=False, indent=2)
    shown, cut = pretty[:ANSWER_SHOWN], ""
    if len(pretty) > ANSWER_SHOWN:
        cut = (f'<div style="{MUTED}">… first {ANSWER_SHOWN:,} characters shown; '
               "<code>w.steps</code> has the whole answer</div>")
    return (f'<details class="newo-json"><summary><code>{_e(compact[:ANSWER_PREVIEW])}</code>'
            f"… <i>({size})</i></summary>"
            f'<div style="white-space: pre-wrap; font-family: monospace">{_e(shown)}</div>'
            f"{cut}</details>")


def step_row(step: StepEvent, answers: int = 1) -> str:
    """One table row: step, stage, question, answer (long answers fold under details;
    JSON answers are indented). ``answers`` > 1: the question was answered again."""
    again = (f' <span class="newo-answers" style="{MUTED}">(answered {answers}×)</span>'
             if answers > 1 else "")
    return (f'<tr class="newo-step" data-step="{step.step_number}">'
            f'<td style="{CELL}">{step.step_number}</td>'
            f'<td style="{CELL}">{_e(step.stage)}</td>'
            f'<td style="{CELL}"><code>{_e(step.question)}</code>{again}</td>'
            f'<td style="{CELL}">{_answer_cell(step.answer)}</td></tr>')


def step_table(rows: Sequence[str], *, hidden: int = 0, where: str = "w.steps") -> str:
    """The step table from rendered rows (already in display order); ``hidden`` earlier
    ones are left out to keep each redraw small, and ``where`` (``w.steps``) has them all."""
    if not rows:
        return f'<div class="newo-steps" style="{MUTED}">No steps yet.</div>'
    head = "".join(f'<th style="{CELL}">{name}</th>'
                   for name in ("Step", "Stage", "Question", "Answer"))
    note = ""
    if hidden:
        note = (f'<tr><td colspan="4" style="{CELL}; {MUTED}">… {hidden:,} earlier steps not '
                f"shown here; <code>{_e(where)}</code> has every step</td></tr>")
    return ('<div class="newo-steps" style="max-height: 420px; overflow-y: auto">'
            '<table style="border-collapse: collapse; width: 100%; line-height: 1.4">'
            f"<thead><tr>{head}</tr></thead><tbody>{note}{''.join(rows)}</tbody>"
            "</table></div>")


def result_card(result: OnboardingResult) -> str:
    """The card shown when a run finishes."""
    rows = [
        ("Business", result.business_name),
        ("Industry", result.industry),
        ("Agent", " — ".join(x for x in (result.agent_name, result.agent_title) if x)),
        ("Agent phone number", result.agent_phone_number),
        ("Created customer", result.created_customer_idn),
        ("External ID", result.external_id),
    ]
    cells = "".join(
        f'<tr><td style="{CELL}; {MUTED}">{label}</td>'
        f'<td style="{CELL}" class="newo-{label.lower().replace(" ", "-")}">'
        f"{_e(value) if value else '—'}</td></tr>"
        for label, value in rows)
    count = len(result.step_events)
    steps = f"{count} of {max(count, result.max_steps) if result.max_steps else '?'} steps"
    took = f" in {elapsed_text(result.duration)}" if result.duration is not None else ""
    missing = (f" ({len(result.missing_steps)} missed while disconnected)"
               if result.missing_steps else "")
    if result.revisions:
        missing += f" ({result.revisions} answer{'s' if result.revisions > 1 else ''} revised)"
    return (f'<div class="newo-result" style="{CARD}; border-left: 4px solid #2e7d32">'
            f"<b>Onboarded</b> <span style=\"{MUTED}\">{steps}{missing}{took}</span>"
            f"<table>{cells}</table></div>")


def error_banner(title: str, message: str, advice: str) -> str:
    return (f'<div class="newo-error" role="alert" style="{CARD}; '
            'border-left: 4px solid #c62828; background: rgba(198, 40, 40, 0.06)">'
            f"<b>{_e(title)}</b><div>{_e(message)}</div>"
            f'<div class="newo-advice" style="margin-top: 4px">{_e(advice)}</div></div>')


# -- the batch table ------------------------------------------------------------------------

ERROR_PREVIEW = 90  # characters of a business's error shown in its row
ERROR_TITLE = 600  # characters of it in the row's tooltip
_STATUS_COLOURS = {"queued": "#757575", "running": "#1565c0", "finished": "#2e7d32",
                   "error": "#c62828", "timeout": "#ef6c00", "cancelled": "#ef6c00"}
BATCH_HEAD = ("Business", "Status", "Progress", "Business name", "Industry", "Error")


def _status_badge(status: str) -> str:
    colour = _STATUS_COLOURS.get(status, "#757575")
    return f'<span class="newo-status-{_e(status)}" style="color: {colour}">{_e(status)}</span>'


# Cell and status styles for the batch table, once per table rather than inline in every
# cell: a 500-business table is redrawn whole, so each row's size counts (~3x smaller).
# The live table is one HTML widget per visible row (a redraw sends only the rows that
# changed), each row its own one-row table: fixed layout and the same column widths keep
# them aligned as one table. Widths live here, not in each row, to keep rows small.
_COLUMN_WIDTHS = (20, 9, 9, 22, 14, 26)  # per cent, in BATCH_HEAD's order
# "table td", not "td": notebook front ends right-align table cells with one class of
# specificity, and ours must win.
BATCH_STYLE = ("<style>.newo-batch table td, .newo-batch table th {" + CELL + "}"
                + ".newo-batch table {border-collapse: collapse; width: 100%; line-height: 1.3; "
                  "table-layout: fixed; overflow-wrap: anywhere}"
                + "".join(f".newo-batch td:nth-child({n}), .newo-batch th:nth-child({n}) "
                          f"{{width: {width}%}}"
                          for n, width in enumerate(_COLUMN_WIDTHS, start=1))
                + "".join(f".newo-batch .s-{status} {{color: {colour}}}"
                          for status, colour in _STATUS_COLOURS.items())
                + "</style>")


def batch_row(external_id: str, status: str, steps: int, max_steps: int | None,
              business_name: str, industry: str, error: str = "") -> str:
    """One business in the batch table; every value is escaped (all of it came from the
    input or the service). Long errors are cut; the cell's title has more of the text
    (``batch.results`` has all of it) so a row stays small whatever the service sent."""
    # a corrected max_steps can fall below the steps received: never show "13 of 12"
    progress = (f"{steps} of {max(steps, max_steps)}" if max_steps
                else (f"{steps} of ?" if steps else ""))
    shown_error = error if len(error) <= ERROR_PREVIEW else error[:ERROR_PREVIEW].rstrip() + "…"
    title = error if len(error) <= ERROR_TITLE else error[:ERROR_TITLE].rstrip() + "…"
    error_cell = f'<td title="{_e(title)}">{_e(shown_error)}</td>' if error else "<td></td>"
    return (f'<tr class="newo-business" data-id="{_e(external_id)}" data-status="{_e(status)}">'
            f"<td><code>{_e(external_id)}</code></td>"
            f'<td class="s-{_e(status)}">{_e(status)}</td>'
            f"<td>{progress}</td><td>{_e(business_name)}</td><td>{_e(industry)}</td>"
            f"{error_cell}</tr>")


def batch_table(rows: Sequence[str], *, note: str = "") -> str:
    """The per-business table from rendered rows, in one piece (the static form);
    ``note`` (our own escaped markup) says which rows these are when not all are shown."""
    if not rows:
        return f'<div class="newo-batch" style="{MUTED}">No businesses to onboard.</div>'
    head = "".join(f"<th>{name}</th>" for name in BATCH_HEAD)
    foot = f'<div style="{MUTED}">{note}</div>' if note else ""
    return (f'<div class="newo-batch">{BATCH_STYLE}'
            "<table>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{foot}</div>")


def batch_summary(phase: str, done: int, total: int, counts: dict[str, int],
                  elapsed: float | None) -> str:
    """``Running · 12 of 44 done · running 8 · finished 11 · error 1 · 0:07``."""
    parts = [f"<b>{_e(phase.capitalize())}</b>", f"{done} of {total} done"]
    parts += [f"{_status_badge(status)} {count}" for status, count in counts.items() if count]
    if elapsed is not None:
        parts.append(f'<span class="newo-elapsed">{elapsed_text(elapsed)}</span>')
    return f'<span class="newo-batch-summary">{" · ".join(parts)}</span>'


def invalid_table(problems: Sequence[dict[str, object]]) -> str:
    """Input rows that could not run: row, customer id, field, problem."""
    if not problems:
        return ""
    head = "".join(f'<th style="{CELL}">{name}</th>'
                   for name in ("Row", "Customer ID", "Field", "Problem"))
    rows = "".join(
        f'<tr class="newo-invalid" data-row="{_e(p.get("row"))}">'
        f'<td style="{CELL}">{_e(p.get("row"))}</td>'
        f'<td style="{CELL}">{_e(p.get("external_customer_id") or "")}</td>'
        f'<td style="{CELL}"><code>{_e(p.get("field"))}</code></td>'
        f'<td style="{CELL}">{_e(p.get("problem"))}</td></tr>'
        for p in problems)
    rows_bad = len({p.get("row") for p in problems})
    return (f'<div class="newo-invalid-rows" style="{CARD}; border-left: 4px solid #ef6c00">'
            f"<b>{rows_bad} input row{'s' if rows_bad != 1 else ''} skipped</b> "
            f'<span style="{MUTED}">(the others run; batch.invalid has them too)</span>'
            f'<table style="border-collapse: collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


# -- HTML reprs of results: ``result`` or ``batch`` alone in a cell ---------------------------

RESULT_STEPS_SHOWN = 300  # steps in a result's HTML repr (result.steps has them all)
BATCH_ROWS_SHOWN = 50  # businesses in a batch's HTML repr (batch.results has them all)
_ENDED_ADVICE = {
    "error": "Check that the website opens in a browser and is the business's home page, "
             "then onboard again.",
    "timeout": "Ask the service where it is (client.request_agent_info(external_id)); "
               "onboarding again attaches to the same customer.",
    "cancelled": "Onboard again to finish it; result.events has what arrived.",
    "running": "A snapshot taken while the run went on.",
}


def result_html(result: OnboardingResult) -> str:
    """An :class:`OnboardingResult` as HTML: the result card (or how it ended) and the steps."""
    if result.ok:
        head = result_card(result)
    else:
        steps = f"{len(result.step_events)} of {result.max_steps or '?'} steps"
        head = error_banner(f"Onboarding {result.status} ({steps})",
                            result.error or "no reason given",
                            _ENDED_ADVICE.get(result.status, ""))
    shown = result.step_events[-RESULT_STEPS_SHOWN:]
    table = step_table([step_row(step) for step in shown],
                       hidden=len(result.step_events) - len(shown), where="result.steps")
    return f'<div class="newo-result-repr">{head}{table}</div>'


def batch_html(batch: OnboardingBatch, external_ids: Sequence[str],
               problems: Sequence[dict[str, object]]) -> str:
    """An :class:`OnboardingBatch` as HTML: counts, the businesses that failed or run
    first, then the others in input order (``BATCH_ROWS_SHOWN`` at most), bad input rows."""
    counts = batch.counts()
    elapsed = ((batch.ended_at - batch.started_at).total_seconds()
               if batch.started_at and batch.ended_at else None)
    summary = batch_summary(batch.status, batch.ended_count, len(batch), counts, elapsed)
    rank = {"error": 0, "timeout": 0, "cancelled": 1, "running": 2}
    order = sorted(external_ids, key=lambda i: rank.get(batch.status_of(i), 3))
    rows = [_batch_repr_row(batch, external_id) for external_id in order[:BATCH_ROWS_SHOWN]]
    note = ""
    if len(order) > BATCH_ROWS_SHOWN:
        note = (f"{BATCH_ROWS_SHOWN} of {len(order):,} businesses shown, failed and running "
                "first; <code>batch.results</code> has every one.")
    table = batch_table(rows, note=note) if rows else ""
    return (f'<div class="newo-batch-repr"><div>{summary}</div>{table}'
            f"{invalid_table(problems)}</div>")


def _batch_repr_row(batch: OnboardingBatch, external_id: str) -> str:
    status = batch.status_of(external_id)
    if status == "queued":
        return batch_row(external_id, "queued", 0, None, "", "")
    result = batch[external_id]
    return batch_row(external_id, status, len(result.step_events), result.max_steps,
                     result.business_name, result.industry, result.error)
