"""Short garbage-collector pauses while onboardings run: a kernel's loop never stalls on one.

A full collection walks every object the cyclic collector tracks, in the whole process.
In a kernel with pandas, IPython and ipywidgets loaded that is 100,000 objects or more
before a batch adds its own, and on the benchmark machine the walk took 50 ms of CPU (far
longer in wall time when the machine is busy): the longest stall a 2,000-business batch
widget met (``bench/looplag.py``), longer than every redraw and journal commit.

So while an onboarding or a batch runs, the objects that already existed are frozen
(``gc.freeze``: moved to the permanent generation, which collections skip); in a batch,
so are the survivors of each full collection, and every full collection then walks only
what was allocated since the one before. The events a long run keeps are walked far less
often (2-3 µs of CPU an event on a 20,000-step run, bench 1). When the last run ends
everything is unfrozen, and the collector sees the whole heap again. Both are O(1) list
moves.

The price: a reference cycle that becomes garbage while frozen (a session that was running
at a freeze, say) is reclaimed when the last run ends, not before; so survivors are
refrozen only in a batch, whose concurrency is bounded (hundreds of sessions started at
once and frozen mid-run held 8 KiB a session more at their peak, bench 2). Nothing is
touched when the collector is disabled or something else in the process already froze
objects, and ``NEWO_NB_GC_FREEZE=off`` turns it off.

"Something else froze objects" means more are frozen than the interpreter keeps there
itself: Python 3.12 moves its immortal objects into the permanent generation (375 on
3.12.1, back after every full collection even when unfrozen; none on 3.10, 3.11 or 3.13),
so the count found when newo_nb is imported is the interpreter's.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["GC_FREEZE_ENV", "short_collector_pauses"]

GC_FREEZE_ENV = "NEWO_NB_GC_FREEZE"
_OFF = frozenset({"off", "0", "false", "no"})
_running = 0  # runs inside short_collector_pauses() that froze (nested or concurrent)
_refreezing = 0  # of which those that freeze the survivors of each full collection
_lock = threading.Lock()  # loops in other threads may run sessions too
INTERPRETER_FROZEN = gc.get_freeze_count()  # the interpreter's own (see above)


@contextlib.contextmanager
def short_collector_pauses(*, refreeze: bool = True) -> Iterator[None]:
    """While inside (nested and concurrent uses are counted), full collections skip the
    objects older than the first use; with ``refreeze``, also those older than the last
    full collection (a batch: its few running sessions are all that can be held back)."""
    global _running, _refreezing
    with _lock:
        owns = _running > 0 or _may_freeze()
        if owns:
            if _running == 0:
                gc.freeze()
            _running += 1
            if refreeze:
                if _refreezing == 0:
                    gc.callbacks.append(_refreeze)
                _refreezing += 1
    try:
        yield
    finally:
        if owns:
            with _lock:
                if refreeze:
                    _refreezing -= 1
                    if _refreezing == 0:
                        gc.callbacks.remove(_refreeze)
                _running -= 1
                if _running == 0:
                    gc.unfreeze()


def _may_freeze() -> bool:
    if os.environ.get(GC_FREEZE_ENV, "").strip().lower() in _OFF:
        return False
    # More frozen than the interpreter keeps there: another freezer owns it.
    return gc.isenabled() and gc.get_freeze_count() <= INTERPRETER_FROZEN


def _refreeze(phase: str, info: dict[str, Any]) -> None:
    """After a full collection, freeze its survivors: the next walks only newer objects."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()
