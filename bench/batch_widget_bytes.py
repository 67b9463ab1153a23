"""Bytes a second the batch widget sends to the browser, at 100, 1,000 and 10,000 businesses.

    python -m bench.batch_widget_bytes                    # 100, 1,000, 10,000; 60 s windows
    python -m bench.batch_widget_bytes --sizes 100 1000 --window 30
    python -m bench --only widgetbytes                    # as benchmark 7 (30 s windows)

The simulator (instant pacing) runs in its own process; this process runs a real
``BatchOnboardingWidget`` over loopback with no front end. Every front-end message goes
through ``ipywidgets.Widget._send``, which is wrapped to add up the JSON size of each one
(what the comm would carry). A batch runs to its end or for ``--window`` seconds, whichever
comes first, and is then cancelled: bytes a second is a rate, and instant pacing is the
worst case for it (businesses end as fast as the machine can run them).

The same-run baseline is the design this replaced: the whole table sent at each redraw.
Its figure is the size of the whole table at the end times the redraws made, per second.
The goal (issue 15): at most 100 KB/s at 10,000 businesses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import secrets
import sys
import time
from typing import Any

from ._common import Row, ServerProcess

SECRET = "bench-" + secrets.token_hex(8)
GOAL_BYTES_PER_S = 100_000


async def serve(secret: str) -> None:
    from newo_nb.simulator import Simulator

    async with Simulator(speed=math.inf, client_secret=secret) as sim:
        print(f"URL {sim.base_url}", flush=True)
        await asyncio.Event().wait()  # until terminated


async def measure(url: str, secret: str, size: int, window: float,
                  concurrency: int) -> dict[str, Any]:
    import ipywidgets

    from newo_nb import BatchOnboardingWidget, Customer, NewoClient
    from newo_nb.simulator import Simulator
    from newo_nb.widgets import _render as render

    port = int(url.rsplit(":", 1)[1])
    base = Simulator(port=port).sample_customers()  # the served sites' inputs; not started
    run = secrets.token_hex(3)
    customers = [Customer.from_mapping({
        **{name: getattr(base[i % len(base)], name) for name in ("name", "email", "source",
                                                                 "phone_number", "country_code")},
        "external_customer_id": f"bytes-{run}-{i}"}) for i in range(size)]
    sent = {"bytes": 0, "messages": 0, "largest": 0}
    original = ipywidgets.Widget._send

    def counting(self: ipywidgets.Widget, msg: Any, buffers: Any = None) -> None:
        size_of = len(json.dumps(msg))
        sent["bytes"] += size_of
        sent["messages"] += 1
        sent["largest"] = max(sent["largest"], size_of)
        original(self, msg, buffers)

    async with NewoClient(secret, base_url=url, origin="http://localhost",
                          journal=False) as client:
        built = time.perf_counter()
        w = BatchOnboardingWidget(customers, client=client, concurrency=concurrency,
                                  progress=False)
        build_s = time.perf_counter() - built
        ipywidgets.Widget._send = counting  # type: ignore[method-assign]
        try:
            began = time.perf_counter()
            draws0 = w._throttle.redraws
            task = w.start()
            done, _ = await asyncio.wait({task}, timeout=window)
            if not done:
                w.cancel()
                await w.wait()
            seconds = time.perf_counter() - began
        finally:
            ipywidgets.Widget._send = original  # type: ignore[method-assign]
        batch = w.batch
        assert batch is not None
        redraws = w._throttle.redraws - draws0
        rows = [render.batch_row(external_id, *_values(batch, external_id))
                for external_id in (c.external_id for c in customers)]
        whole_table = len(json.dumps(render.batch_table(rows)))
        await w.aclose()
    return {"size": size, "seconds": seconds, "build_s": build_s, "redraws": redraws,
            "finished": batch.counts()["finished"], "bytes": sent["bytes"],
            "messages": sent["messages"], "largest_message": sent["largest"],
            "whole_table_bytes": whole_table}


def _values(batch: Any, external_id: str) -> tuple[Any, ...]:
    from newo_nb.widgets._batch import _row_values

    return _row_values(batch, external_id)


def rows_for(found: dict[str, Any]) -> list[Row]:
    size, seconds = found["size"], found["seconds"]
    ours = found["bytes"] / seconds
    baseline = found["whole_table_bytes"] * found["redraws"] / seconds
    name = f"7. batch widget bytes ({size:,} businesses)"
    note = (f"{found['finished']:,} finished in {seconds:.1f} s, {found['redraws']} redraws, "
            f"{found['messages']:,} messages, largest {found['largest_message']:,} B; "
            f"widget built in {found['build_s']:.2f} s")
    return [Row(name, "bytes per second to the front end", round(ours / 1e3, 1),
                baseline=round(baseline / 1e3, 1), unit="KB/s",
                goal="≤ 100 KB/s" if size >= 10_000 else "",
                ok=ours <= GOAL_BYTES_PER_S if size >= 10_000 else None, note=note)]


def run(sizes: list[int], window: float, concurrency: int) -> list[Row]:
    rows: list[Row] = []
    with ServerProcess(["-m", "bench.batch_widget_bytes", "--serve", SECRET]) as url:
        for size in sizes:
            found = asyncio.run(measure(url, SECRET, size, window, concurrency))
            rows += rows_for(found)
            print(json.dumps(found), file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch_widget_bytes")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--window", type=float, default=60.0,
                        help="seconds of a batch measured at most (then it is cancelled)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", metavar="SECRET", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve))
        return 0
    rows = run(args.sizes, args.window, args.concurrency)
    print(f"{'figure':<44} {'ours':>10} {'whole table':>12}  goal")
    for row in rows:
        verdict = "" if row.ok is None else ("met" if row.ok else "MISSED")
        print(f"{row.bench:<44} {row.ours:>7} KB/s {row.baseline:>7} KB/s  {row.goal} {verdict}")
        print(f"    {row.note}")
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
