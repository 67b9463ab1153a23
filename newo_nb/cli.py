"""``newo-nb demo`` (onboard every sample business on the embedded simulator) and
``newo-nb simulator`` (serve the simulator until Ctrl-C)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os

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


async def _serve(host: str, port: int, speed: float) -> None:
    from .simulator import Simulator

    # A secret chosen by the caller comes from the environment, never argv (which `ps` shows),
    # and is not echoed back: whoever set it knows it.
    chosen = os.environ.get("NEWO_SIMULATOR_SECRET", "").strip() or None
    async with Simulator(host=host, port=port, speed=speed, client_secret=chosen) as sim:
        secret = "$NEWO_SIMULATOR_SECRET" if chosen else sim.client_secret
        print(f"newo-nb simulator on {sim.base_url}")
        print(f"NEWO_BASE_URL={sim.base_url} NEWO_CLIENT_SECRET={secret} "
              f"NEWO_ORIGIN={sim.origin}", flush=True)
        await asyncio.Event().wait()


def _speed(text: str) -> float:
    from .simulator._speed import checked_speed

    try:
        return checked_speed(text)
    except ValueError as error:  # argparse shows this message, not "invalid _speed value"
        raise argparse.ArgumentTypeError(str(error).removeprefix("speed=")) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newo-nb")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="onboard the sample businesses on the simulator")
    demo.add_argument("--speed", type=_speed, default=math.inf,
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
    serve.add_argument("--speed", type=_speed, default=1.0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return asyncio.run(_demo(args.speed, args.limit, args.concurrency, args.out))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the simulator stops
        asyncio.run(_serve(args.host, args.port, args.speed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
