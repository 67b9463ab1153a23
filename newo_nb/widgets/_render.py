"""HTML for the widgets, pure: state in, markup out.

The widgets' own pieces (the source line, the status line, banners, the batch table's
live head and pager, the static form and the live view's title hiding it) are here; the
pieces records share (step rows and tables, the result card, batch rows, their HTML
reprs) are :mod:`newo_nb._html`'s, re-exported here for the widgets. Everything that came
from the service or a scraped website is untrusted, so every value goes through
:func:`_e` (``html.escape`` with quotes) before it becomes markup; the only unescaped text
is this module's own literals. Kept free of ipywidgets so it is tested as plain functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from .._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    CustomerValidationError,
    NewoError,
    RealtimeConnectionError,
)
from .._html import (
    ANSWER_PREVIEW,
    ANSWER_SHOWN,
    ERROR_PREVIEW,
    ERROR_TITLE,
    RESULT_STEPS_SHOWN,
    batch_row,
    batch_summary,
    batch_table,
    elapsed_text,
    error_banner,
    invalid_table,
    result_card,
    step_row,
    step_table,
)
from .._html import BATCH_HEAD as _BATCH_HEAD
from .._html import BATCH_STYLE as _BATCH_STYLE
from .._html import CARD as _CARD
from .._html import MUTED as _MUTED
from .._html import escape as _e
from .._secrets import redact

if TYPE_CHECKING:
    from .._protocol import AgentInfo
    from .._state import OnboardingResult

__all__ = [
    "ANSWER_PREVIEW",
    "ANSWER_SHOWN",
    "ERROR_PREVIEW",
    "ERROR_TITLE",
    "RESULT_STEPS_SHOWN",
    "STATIC_END",
    "Banner",
    "agent_card",
    "batch_banner",
    "batch_header",
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
    "source_line",
    "static_progress",
    "static_view",
    "status_line",
    "step_row",
    "step_table",
]


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


def agent_card(info: AgentInfo) -> str:
    """What ``agent_request`` answered (the Check status button)."""
    facts = [("state", info.state), ("customer", info.created_customer_idn),
             ("business", info.business_name),
             ("agent", " — ".join(x for x in (info.agent_name, info.agent_title) if x))]
    shown = " · ".join(f"{label}: <b>{_e(value)}</b>" for label, value in facts if value)
    return f'<div class="newo-agent-info">Agent status — {shown or "no details yet"}</div>'


class Banner(NamedTuple):
    """An error banner: what happened, the details, what to do next."""

    title: str
    message: str
    advice: str

    def html(self) -> str:
        return error_banner(*self)


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
