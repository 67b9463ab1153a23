"""5. Start-up: ``import newo_nb`` against importing its dependencies alone, and the time
from ``onboard()`` to the first step event against a bare socket.io round trip.

Imports run in fresh interpreters (alternating, ``repeats`` each, median), each timing
its own import with ``perf_counter`` so interpreter start-up is left out. "Its
dependencies" are the packages ``pyproject.toml`` declares that ``import newo_nb``
actually loads (found in a fresh interpreter first), imported in one statement.

The first-step latency uses the simulator (``newo-nb simulator --speed instant``) in its
own process: a fresh ``NewoClient`` per try, from ``onboard()`` being called to the
first ``notify_scraping_step`` reaching ``on_event`` (chat-settings, create-actor, the
socket handshake, onboarding_started, the simulator fetching and parsing the sample
site, the first step back). The baseline is a bare socket.io round trip against the
same simulator: ``agent_request`` over REST answered by ``agent_info`` on the socket (the
API's only request/answer pair), once including the connect and once on an open socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from typing import Any

from ._common import Row, ServerProcess, run_json_worker, run_worker
from .pipeline import use_scratch_journal

_DEPS_PROBE = """
import json, sys, importlib.metadata as md
before = set(sys.modules)
import newo_nb
loaded = {m.split('.')[0] for m in set(sys.modules) - before}
declared = {r.split(';')[0].split('[')[0].split('>')[0].split('=')[0].split('<')[0].strip().lower()
            for r in md.requires('newo-nb') or [] if 'extra ==' not in r}
owners = md.packages_distributions()
# A distribution without top_level.txt (pandas 2's wheel) is missing from
# packages_distributions() before Python 3.11: its module name stands for it.
deps = sorted(m for m in loaded
              if any(d.lower().replace('_', '-') in declared for d in owners.get(m, [m])))
print(json.dumps(deps))
"""

_TIMED_IMPORT = "import time; t = time.perf_counter(); import {modules}; " \
                "import json; print(json.dumps(time.perf_counter() - t))"


def dependencies_loaded() -> list[str]:
    deps: list[str] = run_json_worker(["-c", _DEPS_PROBE])  # type: ignore[assignment]
    return deps


def import_times(repeats: int) -> tuple[list[float], list[float], list[str]]:
    deps = dependencies_loaded()
    ours: list[float] = []
    theirs: list[float] = []
    for n in range(repeats):
        order = [(theirs, ", ".join(deps)), (ours, "newo_nb")]
        for times, modules in order if n % 2 else order[::-1]:  # alternate who goes first
            found: Any = run_json_worker(["-c", _TIMED_IMPORT.format(modules=modules)])
            times.append(float(found))
    return ours, theirs, deps


# -- first step ------------------------------------------------------------------------------


async def first_step_worker(url: str, secret: str, tries: int) -> dict[str, Any]:
    import httpx
    import socketio

    from newo_nb import Customer, NewoClient, StepEvent
    from newo_nb._config import API_PREFIX
    from newo_nb.simulator import load_catalog

    site = load_catalog()[0]
    onboard_s, connect_rtt_s, rtt_s = [], [], []
    for n in range(tries + 1):  # the first warms the simulator up (its parsers) and is dropped
        customer = Customer(**site.customer, source=f"{url}/sites/{site.slug}/",
                            external_customer_id=f"first-{os.getpid()}-{n}")
        first = asyncio.get_running_loop().create_future()

        def on_event(event: Any, first: asyncio.Future[float] = first) -> None:
            if isinstance(event, StepEvent) and not first.done():
                first.set_result(time.perf_counter())

        async with NewoClient(secret, base_url=url) as client:  # journal on, in scratch
            began = time.perf_counter()
            task = asyncio.ensure_future(client.onboard(customer, on_event=on_event))
            onboard_s.append(await first - began)
            await task
        external_id = customer.external_id  # the actor exists now, so agent_request works
        connect_rtt, rtt = await _bare_round_trips(url, secret, external_id, socketio, httpx,
                                                   API_PREFIX)
        connect_rtt_s.append(connect_rtt)
        rtt_s.append(rtt)
    return {"onboard_first_step": onboard_s[1:], "bare_connect_round_trip": connect_rtt_s[1:],
            "bare_round_trip": rtt_s[1:]}


async def _bare_round_trips(url: str, secret: str, external_id: str, socketio: Any,
                            httpx: Any, prefix: str) -> tuple[float, float]:
    """A bare client: connect + one agent_request→agent_info, then one more, connected."""
    answers: asyncio.Queue[float] = asyncio.Queue()
    sio = socketio.AsyncClient(handle_sigint=False, reconnection=False)
    sio.on("*", lambda event, data: answers.put_nowait(time.perf_counter()))
    origin = "http://localhost"
    body = {"client_secret": secret, "connector_idn": "newo_nb_simulator",
            "event_idn": "agent_request", "external_id": external_id, "arguments": []}
    async with httpx.AsyncClient() as http:
        began = time.perf_counter()
        await sio.connect(f"{url}?client_secret={secret}&origin={origin}"
                          f"&external_id={external_id}", transports=["websocket"],
                          headers={"Origin": origin})
        await http.post(f"{url}{prefix}/send-actor-event", json=body)
        connect_rtt = await answers.get() - began
        began = time.perf_counter()
        await http.post(f"{url}{prefix}/send-actor-event", json=body)
        rtt = await answers.get() - began
    await sio.disconnect()
    return connect_rtt, rtt


def first_step_times(tries: int) -> dict[str, list[float]]:
    os.environ["NEWO_SIMULATOR_SECRET"] = secrets.token_urlsafe(16)  # never in argv
    port = _free_port()
    args = ["-m", "newo_nb.cli", "simulator", "--port", str(port), "--speed", "instant"]
    with ServerProcess(args, ready_prefix="newo-nb simulator on ") as url, \
            tempfile.TemporaryDirectory() as scratch:
        return run_worker("bench.startup", ["--url", url, "--tries", str(tries),
                                            "--journal-dir", scratch])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(repeats: int, tries: int) -> list[Row]:
    ours, theirs, deps = import_times(repeats)
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    first = first_step_times(tries)
    onboard = statistics.median(first["onboard_first_step"])
    connect_rtt = statistics.median(first["bare_connect_round_trip"])
    rtt = statistics.median(first["bare_round_trip"])
    return [
        Row("5. start-up", "import newo_nb vs its dependencies alone", round(ours_s, 3),
            round(theirs_s, 3), "s", "≤ 1.2×", ours_s / theirs_s <= 1.2,
            note=f"median of {repeats} fresh interpreters each; deps: {', '.join(deps)}"),
        Row("5. start-up", "onboard() → first step vs bare connect + round trip",
            round(onboard * 1e3, 1), round(connect_rtt * 1e3, 1), "ms", "report", None,
            note=f"median of {tries}; includes the simulator fetching and parsing the site"),
        Row("5. start-up", "onboard() → first step vs bare round trip (connected)",
            round(onboard * 1e3, 1), round(rtt * 1e3, 1), "ms", "report", None,
            note="agent_request over REST, agent_info back on the socket"),
    ]


def worker(argv: list[str]) -> dict[str, Any]:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--url", required=True)
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--journal-dir", default=tempfile.gettempdir())
    args = parser.parse_args(argv)
    use_scratch_journal(args.journal_dir)
    return asyncio.run(first_step_worker(args.url, os.environ["NEWO_SIMULATOR_SECRET"],
                                         args.tries))


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1:])))
