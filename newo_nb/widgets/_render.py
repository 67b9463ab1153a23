"""HTML for the onboarding widget, pure: state in, markup out.

Everything that came from the service or a scraped website is untrusted, so every value
goes through :func:`_e` (``html.escape`` with quotes) before it becomes markup; the only
unescaped text here is this module's own literals. Kept free of ipywidgets so it is
tested as plain functions.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    CustomerValidationError,
    NewoError,
    RealtimeConnectionError,
)
from .._frames import parse_answer
from .._secrets import redact

if TYPE_CHECKING:
    from .._batch import OnboardingBatch
    from .._protocol import AgentInfo, StepEvent
    from .._state import OnboardingResult

__all__ = [
    "ANSWER_PREVIEW",
    "ANSWER_SHOWN",
    "STATIC_END",
    "Banner",
    "agent_card",
    "batch_banner",
    "batch_header",
    "batch_html",
    "batch_pager",
    "batch_row",
    "batch_row_table",
    "batch_summary",
    "batch_table",
    "elapsed_text",
    "error_banner",
    "failure_banner",
    "field_message",
    "invalid_table",
    "live_title",
    "outcome_banner",
    "result_card",
    "result_html",
    "source_line",
    "static_progress",
    "static_view",
    "status_line",
    "step_row",
    "step_table",
]

ANSWER_PREVIEW = 120  # characters of an answer shown before "show all"
ANSWER_SHOWN = 5_000  # characters of an answer the table holds at most (w.steps has all)
_MUTED = "color: var(--jp-ui-font-color2, #666)"
_CELL = "padding: 2px 8px; text-align: left; vertical-align: top"
_CARD = ("border: 1px solid var(--jp-border-color2, #ccc); border-radius: 6px; "
         "padding: 8px 12px; margin: 4px 0")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def source_line(kind: str, url: str) -> str:
    """Where the widget talks to; ``kind`` is "simulator", "service" or "client"."""
    if kind == "simulator":
        text = f"Embedded simulator at <code>{_e(url)}</code> — no secret needed"
    elif kind == "service":
        text = f"Newo service at <code>{_e(url)}</code> (secret from NEWO_CLIENT_SECRET)"
    else:
        text = f"Client given: <code>{_e(url)}</code>"
    return f'<span class="newo-source" style="{_MUTED}">{text}</span>'


def field_message(problem: str) -> str:
    """The inline message beside an input field ("" clears it)."""
    if not problem:
        return ""
    return f'<span class="newo-field-error" style="color: #c62828">✗ {_e(problem)}</span>'


def elapsed_text(seconds: float) -> str:
    """``0:07``, ``1:05``, ``1:02:03``."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def status_line(
    status: str, stage: str, step: int, max_steps: int | None, elapsed: float | None,
    stages: Sequence[str] = (),
) -> str:
    """``Running · stage: preprocessing · step 3 of 25 · 0:04``; with more than one stage
    seen, the stages in order follow (``stage_0 › stage_1 › stage_2``)."""
    parts = [f"<b>{_e(status.capitalize())}</b>"]
    if stage:
        parts.append(f'stage: <span class="newo-stage">{_e(stage)}</span>')
    if step or max_steps:
        parts.append(f"step {step} of {max_steps if max_steps else '?'}")
    if elapsed is not None:
        parts.append(f'<span class="newo-elapsed">{elapsed_text(elapsed)}</span>')
    trail = ""
    if len(stages) > 1:
        names = " › ".join(f"<b>{_e(s)}</b>" if s == stage else _e(s) for s in stages)
        trail = f'<div class="newo-stages" style="{_MUTED}">stages: {names}</div>'
    return f'<span class="newo-status">{" · ".join(parts)}</span>{trail}'


def _answer_cell(answer: str) -> str:
    value = parse_answer(answer) if answer[:1] in ("{", "[") else answer
    if isinstance(value, dict | list):
        return _json_cell(value)
    if len(answer) <= ANSWER_PREVIEW:
        return _e(answer)
    preview = answer[:ANSWER_PREVIEW].rstrip()
    shown, cut = answer[:ANSWER_SHOWN], ""
    if len(answer) > ANSWER_SHOWN:  # every redraw sends the whole table: keep rows small
        cut = (f'<div style="{_MUTED}">… first {ANSWER_SHOWN:,} characters shown; '
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
        cut = (f'<div style="{_MUTED}">… first {ANSWER_SHOWN:,} characters shown; '
               "<code>w.steps</code> has the whole answer</div>")
    return (f'<details class="newo-json"><summary><code>{_e(compact[:ANSWER_PREVIEW])}</code>'
            f"… <i>({size})</i></summary>"
            f'<div style="white-space: pre-wrap; font-family: monospace">{_e(shown)}</div>'
            f"{cut}</details>")


def step_row(step: StepEvent, answers: int = 1) -> str:
    """One table row: step, stage, question, answer (long answers fold under details;
    JSON answers are indented). ``answers`` > 1: the question was answered again."""
    again = (f' <span class="newo-answers" style="{_MUTED}">(answered {answers}×)</span>'
             if answers > 1 else "")
    return (f'<tr class="newo-step" data-step="{step.step_number}">'
            f'<td style="{_CELL}">{step.step_number}</td>'
            f'<td style="{_CELL}">{_e(step.stage)}</td>'
            f'<td style="{_CELL}"><code>{_e(step.question)}</code>{again}</td>'
            f'<td style="{_CELL}">{_answer_cell(step.answer)}</td></tr>')


def step_table(rows: Sequence[str], *, hidden: int = 0, where: str = "w.steps") -> str:
    """The step table from rendered rows (already in display order); ``hidden`` earlier
    ones are left out to keep each redraw small, and ``where`` (``w.steps``) has them all."""
    if not rows:
        return f'<div class="newo-steps" style="{_MUTED}">No steps yet.</div>'
    head = "".join(f'<th style="{_CELL}">{name}</th>'
                   for name in ("Step", "Stage", "Question", "Answer"))
    note = ""
    if hidden:
        note = (f'<tr><td colspan="4" style="{_CELL}; {_MUTED}">… {hidden:,} earlier steps not '
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
        f'<tr><td style="{_CELL}; {_MUTED}">{label}</td>'
        f'<td style="{_CELL}" class="newo-{label.lower().replace(" ", "-")}">'
        f"{_e(value) if value else '—'}</td></tr>"
        for label, value in rows)
    count = len(result.step_events)
    steps = f"{count} of {max(count, result.max_steps) if result.max_steps else '?'} steps"
    took = f" in {elapsed_text(result.duration)}" if result.duration is not None else ""
    missing = (f" ({len(result.missing_steps)} missed while disconnected)"
               if result.missing_steps else "")
    if result.revisions:
        missing += f" ({result.revisions} answer{'s' if result.revisions > 1 else ''} revised)"
    return (f'<div class="newo-result" style="{_CARD}; border-left: 4px solid #2e7d32">'
            f"<b>Onboarded</b> <span style=\"{_MUTED}\">{steps}{missing}{took}</span>"
            f"<table>{cells}</table></div>")


def agent_card(info: AgentInfo) -> str:
    """What ``agent_request`` answered (the Check status button)."""
    facts = [("state", info.state), ("customer", info.created_customer_idn),
             ("business", info.business_name),
             ("agent", " — ".join(x for x in (info.agent_name, info.agent_title) if x))]
    shown = " · ".join(f"{label}: <b>{_e(value)}</b>" for label, value in facts if value)
    return f'<div class="newo-agent-info">Agent status — {shown or "no details yet"}</div>'


@dataclass(frozen=True, slots=True)
class Banner:
    """An error banner: what happened, the details, what to do next."""

    title: str
    message: str
    advice: str

    def html(self) -> str:
        return error_banner(self.title, self.message, self.advice)


def error_banner(title: str, message: str, advice: str) -> str:
    return (f'<div class="newo-error" role="alert" style="{_CARD}; '
            'border-left: 4px solid #c62828; background: rgba(198, 40, 40, 0.06)">'
            f"<b>{_e(title)}</b><div>{_e(message)}</div>"
            f'<div class="newo-advice" style="margin-top: 4px">{_e(advice)}</div></div>')


def outcome_banner(result: OnboardingResult) -> Banner | None:
    """The banner for a run that ended without onboarding the customer, else None."""
    if result.status == "error":
        return Banner("The service could not onboard this customer",
                      result.error or "onboarding_error without a description",
                      "Check that the website in source opens in a browser and is the "
                      "business's home page, then press Start to try again.")
    if result.status == "timeout":
        return Banner("No result in time", result.error,
                      "The onboarding may still be running at Newo: Start attaches to it "
                      "(it never onboards the customer twice); Check status asks the service "
                      "where it is. Raise timeout=... for slow websites.")
    if result.status == "cancelled":
        return Banner("Cancelled", result.error or "the run was cancelled",
                      "Cancel stops following here, not the onboarding at Newo: Start "
                      "attaches to it again (it never onboards the customer twice); Check "
                      "status asks the service where it is.")
    return None


def failure_banner(exc: BaseException) -> Banner:
    """The banner for an exception that stopped a run or a status check."""
    message = exc.message if isinstance(exc, NewoError) else redact(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, AuthenticationError):
        return Banner("The service refused the client secret", message,
                      "Set NEWO_CLIENT_SECRET to the connector's secret (shown once when the "
                      "connector is saved on builder.newo.ai/integrations) and restart.")
    if isinstance(exc, RealtimeConnectionError):
        return Banner("The realtime connection was refused", message,
                      "Check the origin (NEWO_ORIGIN) matches the connector's Domain, "
                      "then press Start again.")
    if isinstance(exc, APITimeoutError):
        return Banner("The service did not answer in time", message,
                      "Try again in a minute; press Check status to see if it got through.")
    if isinstance(exc, APIConnectionError):
        return Banner("Could not connect to the service", message,
                      "Check the network and NEWO_BASE_URL, then press Start again.")
    if isinstance(exc, CustomerValidationError):
        return Banner("Some fields need fixing", message,
                      "Fix the fields marked ✗ and press Start again.")
    if isinstance(exc, NewoError):
        return Banner("The onboarding could not start", message, "Fix the cause and press "
                      "Start again.")
    return Banner("Unexpected error", message,
                  "This is a bug in newo-nb; the log has the traceback. Press Start to retry.")


# -- the batch widget ------------------------------------------------------------------------

ERROR_PREVIEW = 90  # characters of a business's error shown in its row
ERROR_TITLE = 600  # characters of it in the row's tooltip
_STATUS_COLOURS = {"queued": "#757575", "running": "#1565c0", "finished": "#2e7d32",
                   "error": "#c62828", "timeout": "#ef6c00", "cancelled": "#ef6c00"}
_BATCH_HEAD = ("Business", "Status", "Progress", "Business name", "Industry", "Error")


def _status_badge(status: str) -> str:
    colour = _STATUS_COLOURS.get(status, "#757575")
    return f'<span class="newo-status-{_e(status)}" style="color: {colour}">{_e(status)}</span>'


# Cell and status styles for the batch table, once per table rather than inline in every
# cell: a 500-business table is redrawn whole, so each row's size counts (~3x smaller).
# The live table is one HTML widget per visible row (a redraw sends only the rows that
# changed), each row its own one-row table: fixed layout and the same column widths keep
# them aligned as one table. Widths live here, not in each row, to keep rows small.
_COLUMN_WIDTHS = (20, 9, 9, 22, 14, 26)  # per cent, in _BATCH_HEAD's order
# "table td", not "td": notebook front ends right-align table cells with one class of
# specificity, and ours must win.
_BATCH_STYLE = ("<style>.newo-batch table td, .newo-batch table th {" + _CELL + "}"
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
        return f'<div class="newo-batch" style="{_MUTED}">No businesses to onboard.</div>'
    head = "".join(f"<th>{name}</th>" for name in _BATCH_HEAD)
    foot = f'<div style="{_MUTED}">{note}</div>' if note else ""
    return (f'<div class="newo-batch">{_BATCH_STYLE}'
            "<table>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{foot}</div>")


def batch_header() -> str:
    """The live table's head: column names, widths and the table's styles (sent once)."""
    head = "".join(f"<th>{name}</th>" for name in _BATCH_HEAD)
    return f"{_BATCH_STYLE}<table><tr>{head}</tr></table>"


def batch_row_table(row: str) -> str:
    """One live row (from :func:`batch_row`) as its own table, aligned with the head."""
    return f"<table>{row}</table>" if row else ""


def batch_pager(first: int, last: int, total: int, order: str) -> str:
    """``Rows 1–50 of 2,000 · running and failed first``."""
    if not total:
        return ""
    arranged = "running and failed first" if order == "active" else "input order"
    return (f'<span class="newo-pager" style="{_MUTED}">Rows {first:,}–{last:,} of '
            f"{total:,} · {arranged}</span>")


def batch_summary(phase: str, done: int, total: int, counts: dict[str, int],
                  elapsed: float | None) -> str:
    """``Running · 12 of 44 done · running 8 · finished 11 · error 1 · 0:07``."""
    parts = [f"<b>{_e(phase.capitalize())}</b>", f"{done} of {total} done"]
    parts += [f"{_status_badge(status)} {count}" for status, count in counts.items() if count]
    if elapsed is not None:
        parts.append(f'<span class="newo-elapsed">{elapsed_text(elapsed)}</span>')
    return f'<span class="newo-batch-summary">{" · ".join(parts)}</span>'


def batch_banner(counts: dict[str, int], errors: Sequence[str] = ()) -> Banner | None:
    """The banner after a batch in which some businesses did not finish, else None.
    ``errors``: the error of each business that failed (one shared by all is a setting)."""
    failed = counts.get("error", 0) + counts.get("timeout", 0)
    cancelled = counts.get("cancelled", 0)
    if not failed and not cancelled:
        return None
    total = sum(counts.values())
    if failed == total > 1 and len(set(errors)) == 1:
        return Banner("Every business failed the same way", errors[0],
                      "That is usually a setting, not the websites: check NEWO_CLIENT_SECRET, "
                      "NEWO_BASE_URL and NEWO_ORIGIN, then press Start again.")
    if cancelled:
        return Banner("Cancelled", f"{cancelled} of {total} businesses were cancelled; the "
                      "others kept what they received. Cancel stops following, not the "
                      "onboardings: those already sent may go on at Newo.",
                      "Press Start to run the batch again: finished businesses come back from "
                      "the journal, interrupted ones are attached to, none is onboarded "
                      "twice (force=True does).")
    return Banner(f"{failed} of {total} businesses did not finish",
                  "Their rows show why; batch.results has the full error of each. Those "
                  "that timed out may still be running at Newo.",
                  "Check their websites open in a browser, then press Start again: timed-out "
                  "businesses are attached to, not onboarded twice.")


def invalid_table(problems: Sequence[dict[str, object]]) -> str:
    """Input rows that could not run: row, customer id, field, problem."""
    if not problems:
        return ""
    head = "".join(f'<th style="{_CELL}">{name}</th>'
                   for name in ("Row", "Customer ID", "Field", "Problem"))
    rows = "".join(
        f'<tr class="newo-invalid" data-row="{_e(p.get("row"))}">'
        f'<td style="{_CELL}">{_e(p.get("row"))}</td>'
        f'<td style="{_CELL}">{_e(p.get("external_customer_id") or "")}</td>'
        f'<td style="{_CELL}"><code>{_e(p.get("field"))}</code></td>'
        f'<td style="{_CELL}">{_e(p.get("problem"))}</td></tr>'
        for p in problems)
    rows_bad = len({p.get("row") for p in problems})
    return (f'<div class="newo-invalid-rows" style="{_CARD}; border-left: 4px solid #ef6c00">'
            f"<b>{rows_bad} input row{'s' if rows_bad != 1 else ''} skipped</b> "
            f'<span style="{_MUTED}">(the others run; batch.invalid has them too)</span>'
            f'<table style="border-collapse: collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


# -- the static form: what a saved or exported notebook shows --------------------------------

_BAR_COLOURS = {"info": "#1976d2", "success": "#2e7d32", "danger": "#c62828",
                "warning": "#ef6c00", "": "#1976d2"}


def static_progress(value: int, maximum: int, bar_style: str, label: str = "Progress") -> str:
    """A progress bar in plain HTML (an IntProgress needs the widget state to show)."""
    share = 0 if maximum <= 0 else max(0, min(100, round(100 * value / maximum)))
    colour = _BAR_COLOURS.get(bar_style, _BAR_COLOURS[""])
    return (f'<div class="newo-static-progress" data-value="{value}" data-max="{maximum}" '
            'style="display: flex; align-items: center; gap: 8px; margin: 4px 0">'
            f'<span>{_e(label)}</span><div style="width: 220px; height: 10px; '
            'background: var(--jp-layout-color3, #e0e0e0); border-radius: 3px">'
            f'<div style="width: {share}%; height: 100%; background: {colour}; '
            f'border-radius: 3px"></div></div><span style="{_MUTED}">{value:,} of {maximum:,}'
            "</span></div>")


# Ends every static view, so a pattern can find one whole (nbval's sanitiser does).
STATIC_END = "<!-- /newo-static -->"
# The output area's classes in JupyterLab and Notebook 7 (Voilà's too): a row of outputs
# is ``.jp-OutputArea-child``, holding a prompt and the rendered ``.jp-OutputArea-output``.
_ROW, _OUTPUT = ".jp-OutputArea-child", ".jp-OutputArea-output"


def static_view(title: str, parts: Sequence[str], key: str = "") -> str:
    """A widget's latest state as one static block: ``parts`` are our own markup, every
    value in them already escaped (they are the live widget's HTML values).

    ``key`` (the widget's model id) ties the block to the widget's live view, whose
    :func:`live_title` hides it; the block's own style hides the widget's output just
    before it while that output holds no view (the widget manager's "model not found"
    line). Front ends that strip styles (untrusted HTML) show the block as it is."""
    body = "".join(f"<div>{part}</div>" for part in parts if part)
    owner, style = "", ""
    if key:
        owner = f" {_static_class(key)}"
        # The widget manager marks its error line with .jupyter-widgets on the output
        # itself (a live view is a child of it); :has() cannot nest, hence the class.
        style = (f"<style>{_ROW}:has(> {_OUTPUT}.jupyter-widgets):has(+ {_ROW} > {_OUTPUT} > "
                 f".{_static_class(key)}) {{display: none}}</style>")
    return (f'<div class="newo-static{owner}" style="{_CARD}">{style}<b>{_e(title)}</b>'
            f'<div style="{_MUTED}; font-size: 0.9em">A saved view of this widget; run the '
            f"notebook to use it live.</div>{body}</div>{STATIC_END}")


def live_title(title: str, key: str) -> str:
    """A live widget's title, carrying the style that hides its static form (the
    :func:`static_view` with the same ``key``) while the view is on the page: with no
    widget state there is no view, so the static form shows."""
    hidden = _static_class(key)
    return (f"<style>.{hidden} {{display: none !important}} "
            f"{_ROW}:has(> {_OUTPUT} > .{hidden}) {{display: none !important}}</style>"
            f"<b>{_e(title)}</b>")


def _static_class(key: str) -> str:
    if not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", key):  # a model id; it goes into CSS
        raise ValueError(f"key={key!r} is not a widget model id (letters, digits, - and _)")
    return f"newo-for-{key}"


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
