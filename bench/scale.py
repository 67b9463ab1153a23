"""2. Scale: N concurrent onboardings on the simulator at full speed, in one process,
against N bare socket.io clients doing the same onboardings.

The simulator (``newo-nb simulator --speed instant``) runs in its own process and
really fetches and parses each customer's sample site. Each count runs in a fresh
client process (so peak RSS is that run's own): newo-nb runs ``asyncio.gather`` of
``client.onboard(...)`` (journal on, in a scratch file); the bare client does the same
REST calls with one httpx client and counts events on one ``socketio.AsyncClient`` per
onboarding (sharing one aiohttp session, as newo-nb's connections do). RSS per session
is (peak RSS − RSS before the N start) / N, both kinds having first run one onboarding
to warm up (lazy imports, connection pools, the journal file are not per session); each
count runs ``repeats`` times per kind, alternating, and the lowest growth is kept.

Worker: ``python -m bench.scale --worker newo|bare --url URL --count N`` (the simulator's
secret in ``NEWO_SIMULATOR_SECRET``, never in argv).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from typing import Any

from . import _common
from ._common import (
    Row,
    ServerProcess,
    WorkerCrashed,
    current_rss_kib,
    peak_rss_kib,
    raise_open_files_limit,
    reset_peak_rss,
    run_worker,
    worker_arguments,
)
from .pipeline import use_scratch_journal
from .startup import _free_port

ORIGIN = "http://localhost"
CONNECTOR = "newo_nb_simulator"


def customers(url: str, count: int) -> list[Any]:
    """The sample businesses, cycled, each with its own external_customer_id."""
    from newo_nb import Customer
    from newo_nb.simulator import load_catalog

    sites = load_catalog()
    tag = f"{os.getpid()}-{time.time_ns() % 10**9}"
    return [Customer(**site.customer, source=f"{url}/sites/{site.slug}/",
                     external_customer_id=f"scale-{tag}-{i}")
            for i, site in ((i, sites[i % len(sites)]) for i in range(count))]


def _verdict(steps: list[int], max_steps: int | None, finished: bool) -> dict[str, int]:
    expected = set(range(1, (max_steps or 0) + 1))
    return {"lost": len(expected - set(steps)), "doubled": len(steps) - len(set(steps)),
            "unfinished": int(not finished)}


async def newo_worker(url: str, secret: str, count: int) -> dict[str, Any]:
    from newo_nb import NewoClient

    warm_up, *batch = customers(url, count + 1)
    async with NewoClient(secret, base_url=url, origin=ORIGIN) as client:
        await client.onboard(warm_up)  # lazy imports, pools, journal file: not per session
        reset_peak_rss()
        rss0 = current_rss_kib()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(client.onboard(c) for c in batch))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    totals = {"lost": 0, "doubled": 0, "unfinished": 0}
    for result in results:
        verdict = _verdict([s.step_number for s in result.step_events], result.max_steps,
                           result.ok)
        verdict["doubled"] += result.duplicates  # re-sent steps the fold dropped
        for key, value in verdict.items():
            totals[key] += value
    events = sum(len(r.log) for r in results)
    return {"wall": wall, "cpu": cpu, "events": events, "rss0": rss0, "peak": peak_rss_kib(),
            **totals}


async def bare_worker(url: str, secret: str, count: int) -> dict[str, Any]:
    import aiohttp
    import httpx
    import socketio

    from newo_nb._config import API_PREFIX

    warm_up, *batch = customers(url, count + 1)
    async with httpx.AsyncClient(timeout=60) as http, aiohttp.ClientSession() as ws_pool:
        await http.get(f"{url}{API_PREFIX}/chat-settings", params={"client_secret": secret})
        await _bare_onboarding(url, secret, warm_up, http, ws_pool, socketio, API_PREFIX)
        reset_peak_rss()
        rss0 = current_rss_kib()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        runs = await asyncio.gather(*(
            _bare_onboarding(url, secret, c, http, ws_pool, socketio, API_PREFIX)
            for c in batch))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    totals = {"lost": 0, "doubled": 0, "unfinished": 0}
    for run in runs:
        for key, value in _verdict(run["steps"], run["max_steps"], run["finished"]).items():
            totals[key] += value
    errors = sorted({r["error"] for r in runs if "error" in r})
    return {"wall": wall, "cpu": cpu, "events": sum(r["events"] for r in runs), "rss0": rss0,
            "peak": peak_rss_kib(), "errors": errors[:3], **totals}


async def _bare_onboarding(url: str, secret: str, customer: Any, http: Any, ws_pool: Any,
                           socketio: Any, prefix: str) -> dict[str, Any]:
    external_id = customer.external_id
    seen: dict[str, Any] = {"events": 0, "steps": [], "max_steps": None, "finished": False}
    ended = asyncio.get_running_loop().create_future()

    def on_any(event: str, data: Any) -> None:
        seen["events"] += 1
        command = data.get("command_idn") if isinstance(data, dict) else None
        args = {a["name"]: a["value"] for a in data.get("arguments", [])} if command else {}
        if command == "notify_scraping_step":
            seen["steps"].append(int(args["step_number"]))
            seen["max_steps"] = int(args["max_steps"])
        elif command in ("onboarding_finished", "onboarding_error") and not ended.done():
            seen["finished"] = command == "onboarding_finished"
            ended.set_result(None)

    sio = socketio.AsyncClient(handle_sigint=False, reconnection=False, http_session=ws_pool)
    sio.on("*", on_any)
    auth = {"client_secret": secret, "connector_idn": CONNECTOR}
    await http.post(f"{url}{prefix}/create-actor",
                    json={**auth, "name": customer.name, "external_id": external_id})
    try:
        # newo-nb's connection waits up to 15 s for the namespace; python-socketio's default
        # (1 s) failed bare onboardings when 1,000 connected at once on a loaded machine.
        await sio.connect(
            f"{url}?client_secret={secret}&origin={ORIGIN}&external_id={external_id}",
            transports=["websocket"], headers={"Origin": ORIGIN}, wait_timeout=15)
        arguments = [{"name": k, "value": v} for k, v in customer.to_arguments()]
        await http.post(f"{url}{prefix}/send-actor-event", json={
            **auth, "event_idn": "onboarding_started", "external_id": external_id,
            "arguments": arguments})
        await asyncio.wait_for(ended, 600)
    except Exception as failure:  # counted as unfinished, not a crash of the whole worker
        seen["error"] = repr(failure)
    finally:
        await sio.disconnect()
    return seen


def _least_rss(tries: list[dict[str, Any]]) -> dict[str, Any]:
    best = dict(min(tries, key=lambda r: r["peak"] - r["rss0"]))
    for key in ("lost", "doubled", "unfinished"):
        best[key] = sum(r[key] for r in tries)
    return best


def run(counts: list[int], repeats: int = 1) -> list[Row]:
    os.environ["NEWO_SIMULATOR_SECRET"] = secrets.token_urlsafe(16)  # never in argv
    args = ["-m", "newo_nb.cli", "simulator", "--port", str(_free_port()), "--speed", "instant"]
    rows: list[Row] = []
    with ServerProcess(args, ready_prefix="newo-nb simulator on ") as url, \
            tempfile.TemporaryDirectory() as scratch:
        def one(kind: str, count: int) -> dict[str, Any]:
            return run_worker("bench.scale", ["--worker", kind, "--url", url,
                                              "--count", str(count), "--journal-dir", scratch])

        if not _common.IN_PROCESS:
            one("bare", 20)  # warm the simulator up (imports, parsers); not counted
        runs = {}
        for count in counts:
            tries: dict[str, list[dict[str, Any]]] = {"bare": [], "newo": []}
            crashed: dict[str, list[str]] = {"bare": [], "newo": []}
            for _ in range(repeats):
                for kind in tries:
                    try:
                        tries[kind].append(one(kind, count))
                    except WorkerCrashed as crash:  # reported in the table; the run goes on
                        crashed[kind].append(crash.cause)
            if not all(tries.values()):
                rows.append(_crashed_row(count, crashed))
                continue
            # The lowest RSS growth of each kind (allocator noise only ever adds), with the
            # losses of every try counted.
            runs[count] = got = {kind: _least_rss(found) for kind, found in tries.items()}
            rows += _rows(count, got["newo"], got["bare"], crashed)
    if len(runs) > 1:
        rows.append(_marginal(runs[min(runs)], runs[max(runs)], min(runs), max(runs)))
    return rows


def _marginal(small: dict[str, dict[str, Any]], large: dict[str, dict[str, Any]],
              low: int, high: int) -> Row:
    """What one more session costs: the slope of peak RSS growth between two counts, so
    per-run fixed costs (the journal's SQLite page cache, pools) drop out."""
    def slope(kind: str) -> float:
        grown = [(r["peak"] - r["rss0"]) for r in (small[kind], large[kind])]
        return (grown[1] - grown[0]) / (high - low)

    newo, bare = slope("newo"), slope("bare")
    return Row(f"2. scale ({low:,} → {high:,})", "marginal RSS per session", round(newo, 1),
               round(bare, 1), "KiB", "≤ 1.5× bare",
               None if _common.IN_PROCESS else newo <= 1.5 * bare,
               note="slope of peak-RSS growth between the two counts")


def _crashed_row(count: int, crashed: dict[str, list[str]]) -> Row:
    """Every try of a kind crashed at ``count``: no figure, and the reason, in the table."""
    said = "; ".join(f"{kind}: {len(causes)} crashed ({causes[-1]})"
                     for kind, causes in crashed.items() if causes)
    return Row(f"2. scale ({count:,} concurrent)", "RSS per session", "crashed", None, "KiB",
               "≤ 1.5× bare", False, note=said[:300])


def _rows(count: int, newo: dict[str, Any], bare: dict[str, Any],
          crashed: dict[str, list[str]] | None = None) -> list[Row]:
    name = f"2. scale ({count:,} concurrent)"
    trouble = "; ".join([*(f"{kind} worker crashed {len(causes)}× ({causes[-1]})"
                           for kind, causes in (crashed or {}).items() if causes),
                         *(f"{kind}: {e}" for kind, r in (("newo", newo), ("bare", bare))
                           for e in r.get("errors", []))])
    per_newo = (newo["peak"] - newo["rss0"]) / count
    per_bare = (bare["peak"] - bare["rss0"]) / count
    bad = {k: newo[k] + bare[k] for k in ("lost", "doubled", "unfinished")}
    return [
        Row(name, "lost / doubled / unfinished (newo-nb + bare)",
            f"{newo['lost']}/{newo['doubled']}/{newo['unfinished']}",
            f"{bare['lost']}/{bare['doubled']}/{bare['unfinished']}", "", "0/0/0",
            not any(bad.values()), note=trouble[:300],
            extra={"newo_events": newo["events"], "bare_events": bare["events"]}),
        Row(name, "RSS per session", round(per_newo, 1), round(per_bare, 1), "KiB",
            "≤ 1.5× bare", None if _common.IN_PROCESS else per_newo <= 1.5 * per_bare,
            note="smoke: one process, RSS not isolated" if _common.IN_PROCESS else
            f"peak RSS {newo['peak'] / 1024:.0f} MiB vs {bare['peak'] / 1024:.0f} MiB"),
        Row(name, "wall time", round(newo["wall"], 2), round(bare["wall"], 2), "s",
            note="the simulator parses every site: it bounds both"),
        Row(name, "events/s", round(newo["events"] / newo["wall"]),
            round(bare["events"] / bare["wall"]), "ev/s"),
        Row(name, "client CPU per event", round(1e6 * newo["cpu"] / newo["events"], 1),
            round(1e6 * bare["cpu"] / bare["events"], 1), "µs",
            note="includes REST calls and connects, spread over the run's events"),
    ]


def worker(argv: list[str]) -> dict[str, Any]:
    args = worker_arguments("bench.scale", ["newo", "bare"], "count", argv)
    use_scratch_journal(args.journal_dir)
    raise_open_files_limit()  # a socket and more per session: 1,000 need > 1,024 descriptors
    run = newo_worker if args.worker == "newo" else bare_worker
    return asyncio.run(run(args.url, os.environ["NEWO_SIMULATOR_SECRET"], args.count))


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1:])))
