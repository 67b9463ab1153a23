"""Progress as text, where there is no widget front end: a terminal, IPython, a script, CI.

``onboard(..., progress=True)`` prints a line per step of the run, and
``onboard_many(..., progress=True)`` a tqdm bar with the count of each status; both at a
bounded rate (a burst of thousands of events prints a handful of lines, the rest folded
into the next one) and both end with a summary. The widgets use the same reporters when
they run outside a Jupyter kernel (:func:`widget_front_end` is False).

Text from the service or a scraped website is untrusted here too: control characters
(terminal escape sequences among them) are replaced before anything is printed.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

from ._protocol import OnboardingError, ScrapingFinished, ServerEvent, StepEvent

if TYPE_CHECKING:
    from tqdm import tqdm

    from ._batch import OnboardingBatch
    from ._state import OnboardingResult

__all__ = ["BatchBar", "StepLines", "widget_front_end"]

LINES_PER_SECOND = 4.0  # step lines of one run, at most
BAR_INTERVAL = 0.5  # seconds between bar redraws in a terminal
BAR_INTERVAL_NOT_A_TTY = 10.0  # in a log file (CI): fewer, since each redraw is kept
ANSWER_SHOWN = 70  # characters of an answer on a step line
FAILURES_LISTED = 10  # failed businesses named under a batch's summary
_ENDED = frozenset({"finished", "error", "timeout", "cancelled"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(text: object, limit: int | None = None) -> str:
    """One printable line: control characters become spaces (no escape sequence from the
    server reaches the terminal), cut to ``limit`` characters."""
    line = " ".join(_CONTROL.sub(" ", str(text)).split())
    if limit is not None and len(line) > limit:
        return line[: limit - 1].rstrip() + "…"
    return line


def elapsed_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def widget_front_end() -> bool:
    """True inside a Jupyter kernel, where a widget front end can show the widgets (a
    kernel without one, as under papermill, gets the widgets' updated static output)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class StepLines:
    """A line per step of one onboarding, at most ``max_rate`` lines a second.

    >>> lines = StepLines("sample-bean-and-bloom")       # doctest: +SKIP
    >>> result = await client.onboard(customer, on_event=lines)
    >>> lines.finish(result)                            # the summary line

    Steps arriving faster than the rate are folded into the next line printed
    ("+12 more"), and :meth:`finish` prints the last one held back before the summary.
    """

    def __init__(self, label: str, *, stream: TextIO | None = None,
                 max_rate: float = LINES_PER_SECOND,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = clean(label, 40)
        self.stream = stream
        self.interval = 1.0 / max_rate
        self.lines = 0  # printed so far (for tests)
        self._clock = clock
        self._last = float("-inf")
        self._held: StepEvent | None = None  # the newest step not printed yet
        self._folded = 0  # steps not printed since the last line

    def __call__(self, event: ServerEvent) -> None:
        if isinstance(event, StepEvent):
            self._step(event)
        elif isinstance(event, ScrapingFinished):
            self._flush_held()
            self._print(f"parsed: {clean(event.business_name, 60) or '?'} "
                        f"({clean(event.industry, 30) or 'industry unknown'})")
        elif isinstance(event, OnboardingError):
            self._flush_held()
            self._print(f"onboarding_error: {clean(event.description, 200)}")

    def finish(self, result: OnboardingResult) -> None:
        """Print any step held back, then one summary line."""
        self._flush_held()
        steps = f"{len(result.step_events)} of {result.max_steps or '?'} steps"
        took = elapsed_text(result.duration)
        if result.ok:
            agent = " — ".join(clean(x, 40) for x in (result.agent_name, result.agent_title) if x)
            facts = [clean(result.business_name, 60), clean(result.industry, 30),
                     f"agent {agent}" if agent else "",
                     clean(result.agent_phone_number, 30),
                     f"customer {clean(result.created_customer_idn, 40)}"
                     if result.created_customer_idn else ""]
            shown = " · ".join(x for x in facts if x)
            self._print(f"finished in {took} · {steps} · {shown}")
        else:
            self._print(f"{result.status} after {took} · {steps} · "
                        f"{clean(result.error, 300) or 'no reason given'}")

    def _step(self, step: StepEvent) -> None:
        now = self._clock()
        if now - self._last < self.interval:
            if self._held is not None:
                self._folded += 1
            self._held = step
            return
        self._held = None
        self._print_step(step, now)

    def _flush_held(self) -> None:
        if self._held is not None:
            step, self._held = self._held, None
            self._print_step(step, self._clock())

    def _print_step(self, step: StepEvent, now: float) -> None:
        more = f" (+{self._folded} more)" if self._folded else ""
        self._folded = 0
        self._last = now
        answer = clean(step.answer, ANSWER_SHOWN)
        self._print(f"step {step.step_number}/{step.max_steps or '?'}{more} · "
                    f"{clean(step.stage, 30)} · {clean(step.question, 50)}: {answer}")

    def _print(self, text: str) -> None:
        # only steps are rate-bound; event lines and the summary always print
        self.lines += 1
        print(f"[{self.label}] {text}", file=self.stream or sys.stderr, flush=True)


class BatchBar:
    """A tqdm bar for a batch: businesses done of all, the count of each status beside it.

    >>> bar = BatchBar(len(customers))                            # doctest: +SKIP
    >>> batch = await client.onboard_many(customers, on_status=bar)
    >>> bar.finish(batch)                                         # the summary

    tqdm redraws at most every ``BAR_INTERVAL`` seconds in a terminal, and every
    ``BAR_INTERVAL_NOT_A_TTY`` when the stream is a file or a CI log.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None,
                 desc: str = "Onboarding") -> None:
        from tqdm.std import tqdm as text_tqdm  # text, whatever the front end

        out = stream or sys.stderr
        tty = bool(getattr(out, "isatty", lambda: False)())
        # A terminal that reports no size (a bare pty) would make tqdm draw nothing:
        # give it one. Off a terminal tqdm's own defaults suit a log.
        fixed = tty and _width(out) <= 0
        self.total = total
        self._counts: dict[str, int] = {}
        self._status: dict[str, str] = {}
        self._started = time.monotonic()
        self._bar: tqdm[None] = text_tqdm(
            total=total, desc=desc, unit="business", file=out,
            dynamic_ncols=tty and not fixed, ncols=100 if fixed else None,
            nrows=24 if fixed else None,
            mininterval=BAR_INTERVAL if tty else BAR_INTERVAL_NOT_A_TTY,
            ascii=not tty, leave=True)
        self.stream = out

    def __call__(self, external_id: str, status: str) -> None:
        previous = self._status.get(external_id)
        self._status[external_id] = status
        if previous is not None:
            self._counts[previous] -= 1
        self._counts[status] = self._counts.get(status, 0) + 1
        self._bar.set_postfix_str(self.counts_text(self._counts), refresh=False)
        if status in _ENDED and previous not in _ENDED:
            self._bar.update(1)  # redraws only when tqdm's interval has passed

    @staticmethod
    def counts_text(counts: Mapping[str, int]) -> str:
        return " ".join(f"{status}={n}" for status, n in counts.items() if n)

    def finish(self, batch: OnboardingBatch | None = None) -> None:
        """Close the bar, then print the summary (and the first failures, by business)."""
        self._bar.refresh()
        self._bar.close()
        counts = batch.counts() if batch is not None else dict(self._counts)
        took = elapsed_text(time.monotonic() - self._started)
        print(f"{self.total} businesses in {took}: {self.counts_text(counts) or 'none ran'}",
              file=self.stream, flush=True)
        if batch is None:
            return
        failed = [r for r in batch.onboarding_results if r.status in ("error", "timeout")]
        for result in failed[:FAILURES_LISTED]:
            print(f"  {clean(result.external_id, 40)}: {result.status}: "
                  f"{clean(result.error, 160) or 'no reason given'}", file=self.stream)
        if len(failed) > FAILURES_LISTED:
            print(f"  … {len(failed) - FAILURES_LISTED} more; batch.results has every error",
                  file=self.stream)


def _width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0
