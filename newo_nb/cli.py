"""``newo-nb demo`` (onboard every sample business on the embedded simulator) and
``newo-nb simulator`` (serve the simulator until Ctrl-C)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os

__all__ = ["main"]


async def _demo(speed: float, limit: int) -> int:
    from tqdm import tqdm

    from ._frames import results_frame
    from .simulator import Simulator

    async with Simulator(speed=speed) as sim, sim.client() as client:
        customers = sim.sample_customers()[:limit]
        results = []
        for customer in tqdm(customers, desc="onboarding", unit="business"):
            results.append(await client.onboard(customer))
    frame = results_frame(results)
    columns = ["status", "business_name", "industry", "agent_name", "agent_title",
               "steps_received", "max_steps"]
    print(frame[columns].to_string())
    return 0 if all(r.ok for r in results) else 1


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
    return math.inf if text == "instant" else float(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newo-nb")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="onboard the sample businesses on the simulator")
    demo.add_argument("--speed", type=_speed, default=math.inf,
                      help="1 = realistic pacing, 'instant' (default) = none")
    demo.add_argument("--limit", type=int, default=1000)
    serve = sub.add_parser(
        "simulator", help="run the simulator until Ctrl-C",
        description="Serve the simulator. Its client secret is random, or the value of the "
                    "NEWO_SIMULATOR_SECRET environment variable when set.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--speed", type=_speed, default=1.0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return asyncio.run(_demo(args.speed, args.limit))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the simulator stops
        asyncio.run(_serve(args.host, args.port, args.speed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
