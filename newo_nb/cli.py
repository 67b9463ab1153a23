"""``newo-nb demo`` (onboard every sample business on the embedded simulator),
``newo-nb simulator`` (serve the simulator until Ctrl-C, or replay a cassette with
``--replay PATH``), ``newo-nb report EXTERNAL_ID`` (a journalled run's wire report),
``newo-nb record EXTERNAL_ID`` (that run as a cassette), ``newo-nb onboard FILE``,
``newo-nb journal`` and ``newo-nb app`` (each of the last three in its own ``_cli_*``
module)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .simulator import Dialect

from ._cli_app import add_app_parser
from ._cli_journal import add_journal_parser
from ._cli_onboard import add_onboard_parser
from ._cli_options import speed

__all__ = ["main"]


_DEMO_COLUMNS = ["external_id", "status", "business_name", "industry", "agent_name",
                 "agent_title", "agent_phone_number", "steps_received", "max_steps"]


async def _demo(speed: float, limit: int, concurrency: int, out: str | None) -> int:
    """Onboard the sample businesses as one batch, with a progress bar; print the table."""
    import time

    import pandas as pd
    from tqdm import tqdm

    from ._batch import OnboardingBatch
    from .simulator import Simulator

    started = time.perf_counter()
    async with Simulator(speed=speed) as sim, sim.client() as client:
        customers = sim.sample_customers()[:limit]
        with tqdm(total=len(customers), desc="onboarding", unit="business") as bar:
            def on_status(_external_id: str, status: str) -> None:
                if status not in ("queued", "running"):
                    bar.update(1)

            batch = OnboardingBatch(client, customers, concurrency=concurrency,
                                    on_status=on_status, force=True)
            await batch.run()
    results = batch.results
    with pd.option_context("display.width", 200, "display.max_colwidth", 32):
        print(results[_DEMO_COLUMNS].to_string(index=False))
    counts = results["status"].value_counts()
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    print(f"\n{len(results)} businesses: {summary}; {len(batch.steps)} steps "
          f"in {time.perf_counter() - started:.1f} s")
    if out:
        written = batch.to_csv(out)
        print("frames written:", ", ".join(str(path) for path in written))
    return 0 if (results["status"] == "finished").all() else 1


async def _serve(host: str, port: int, speed: float, dialect: Dialect | None = None,
                 replay: str | None = None) -> None:
    from .simulator import Simulator

    # A secret chosen by the caller comes from the environment, never argv (which `ps` shows),
    # and is not echoed back: whoever set it knows it.
    chosen = os.environ.get("NEWO_SIMULATOR_SECRET", "").strip() or None
    async with Simulator(host=host, port=port, speed=speed, client_secret=chosen,
                         dialect=dialect, replay=replay) as sim:
        secret = "$NEWO_SIMULATOR_SECRET" if chosen else sim.client_secret
        print(f"newo-nb simulator on {sim.base_url}")
        if sim.replay is not None:
            print(f"replaying {replay} ({len(sim.replay.events)} events) for every onboarding")
        print(f"NEWO_BASE_URL={sim.base_url} NEWO_CLIENT_SECRET={secret} "
              f"NEWO_ORIGIN={sim.origin}")
        if sim.dialect != type(sim.dialect)():
            print(f"speaking {sim.dialect}")
        print(end="", flush=True)
        await asyncio.Event().wait()


def _dialect(text: str) -> Dialect:
    from .simulator import Dialect

    try:
        return Dialect.named(text)
    except ValueError as bad:
        raise argparse.ArgumentTypeError(str(bad)) from None


def _add_wire_commands(sub: Any) -> None:
    """``report`` and ``record``: a journalled run's wire report, and that run as a cassette."""
    report = sub.add_parser(
        "report", help="print the wire report of a customer's latest journalled run",
        description="What the latest journalled run of EXTERNAL_ID looked like on the wire: "
                    "event names, framing, numbering, stages, unexpected commands and "
                    "arguments, refusals, timing.")
    report.add_argument("external_id", metavar="EXTERNAL_ID")
    report.add_argument("--journal", metavar="PATH", help="the journal (default: "
                        "$NEWO_NB_JOURNAL or the default journal)")
    record = sub.add_parser(
        "record", help="write a customer's latest journalled run as a cassette",
        description="Write the latest journalled run of EXTERNAL_ID as a cassette (JSON lines: "
                    "a header, then every raw event with its offset). Never holds the secret.")
    record.add_argument("external_id", metavar="EXTERNAL_ID")
    record.add_argument("--journal", metavar="PATH", help="the journal (default: "
                        "$NEWO_NB_JOURNAL or the default journal)")
    record.add_argument("--out", metavar="FILE",
                        help="where to write it (default: EXTERNAL_ID.cassette.jsonl)")
    record.add_argument("--redact", action="store_true", help="replace the customer's email "
                        "and phone number everywhere with stable placeholders")


def _wire_command(args: argparse.Namespace) -> int:
    """Run ``report`` or ``record``; a missing journal or run is one line on stderr."""
    from ._cassette import record_cassette, wire_report

    try:
        if args.command == "report":
            print(wire_report(args.external_id, journal=args.journal))
            return 0
        # an id is any text (an email, a path-like "a/b"): the default name keeps it tame
        out = args.out or re.sub(r"[^\w.@-]", "_", args.external_id) + ".cassette.jsonl"
        cassette = record_cassette(args.external_id, journal=args.journal, out=out,
                                   redact=args.redact)
    except (FileNotFoundError, LookupError) as missing:
        print(f"newo-nb {args.command}: {missing}", file=sys.stderr)
        return 2
    redacted = ", email and phone redacted" if cassette.redacted else ""
    print(f"wrote {out}: {len(cassette.events)} events of {cassette.external_id} "
          f"({cassette.status}{redacted})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newo-nb")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="onboard the sample businesses on the simulator")
    demo.add_argument("--speed", type=speed, default=math.inf,
                      help="1 = realistic pacing, 'instant' (default) = none")
    demo.add_argument("--limit", type=int, default=1000, help="onboard the first N samples")
    demo.add_argument("--concurrency", type=int, default=8, help="onboardings at once")
    demo.add_argument("--out", metavar="DIR", help="also write the frames as CSV files here")
    serve = sub.add_parser(
        "simulator", help="run the simulator until Ctrl-C",
        description="Serve the simulator. Its client secret is random, or the value of the "
                    "NEWO_SIMULATOR_SECRET environment variable when set.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--speed", type=speed, default=1.0)
    serve.add_argument(
        "--dialect", type=_dialect, default=None, metavar="NAME[,NAME...]",
        help="speak a variant of the API the document allows: documented (default), text, "
             "bytes, per_stage, five_stages, hidden_steps, changing_max_steps, retries, "
             "json_answers, event_name, newo; combine with commas")
    serve.add_argument("--event-name", default=None,
                       help="the socket.io event that carries the payloads (default: message)")
    serve.add_argument("--replay", metavar="PATH", help="answer every onboarding by replaying "
                       "this cassette (its pacing divided by --speed)")
    _add_wire_commands(sub)
    add_onboard_parser(sub)
    add_journal_parser(sub)
    add_app_parser(sub)
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is not None:
        return int(args.handler(args))
    if args.command == "demo":
        return asyncio.run(_demo(args.speed, args.limit, args.concurrency, args.out))
    if args.command in ("report", "record"):
        return _wire_command(args)
    from ._exceptions import CassetteError

    dialect = args.dialect
    if args.event_name:
        from .simulator import Dialect

        dialect = (dialect or Dialect()).merged(Dialect(event_name=args.event_name))
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the simulator stops
            asyncio.run(_serve(args.host, args.port, args.speed, dialect, args.replay))
    except (CassetteError, OSError) as unusable:  # a bad cassette, a missing one, a busy port
        print(f"newo-nb simulator: {unusable}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
