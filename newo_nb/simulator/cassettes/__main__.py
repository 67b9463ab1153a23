"""Record the shipped cassette again: ``python -m newo_nb.simulator.cassettes``.

Onboards the sample restaurant on the embedded simulator at realistic pacing (about 20 s),
in its five-stage, per-stage-numbered dialect (``stage_0`` .. ``stage_4``, numbers restarting
in each stage, as Newo's internal flows are described), with a throwaway journal, and records
that run with ``redact=True`` over the shipped file.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from ..._cassette import record_cassette
from .._server import Simulator
from . import DIALECT, SAMPLE, sample_cassette


async def _record(out: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        journal = Path(scratch) / "journal.sqlite3"
        simulator = Simulator(speed=1.0, dialect=DIALECT)
        async with simulator as sim, sim.client(journal=journal) as client:
            customer = next(c for c in sim.sample_customers()
                            if c.external_id == f"sample-{SAMPLE}")
            result = await client.onboard(customer, force=True)
            result.raise_for_status()
        cassette = record_cassette(customer.external_id, journal=journal, out=out, redact=True)
    print(f"wrote {out}: {len(cassette.events)} events, {cassette.status}")


if __name__ == "__main__":
    asyncio.run(_record(sample_cassette()))
