"""Command-line options shared by the commands that onboard: where to, and how fast.

``--simulator`` and ``--service`` choose the target the same way in every command; a
command without either uses its own default (``onboard``: the service; ``app``: the
service when ``NEWO_CLIENT_SECRET`` is set, else the simulator).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Literal

__all__ = ["Target", "add_target_options", "chosen_target", "speed"]

Target = Literal["simulator", "service"]


def speed(text: str) -> float:
    """``--speed``: a pacing factor, or ``instant``."""
    from .simulator import checked_speed

    try:
        return checked_speed(text)
    except ValueError as error:  # argparse shows this message, not "invalid speed value"
        raise argparse.ArgumentTypeError(str(error).removeprefix("speed=")) from None


def add_target_options(parser: Any, *, speed_default: float, speed_help: str) -> None:
    """``--simulator`` / ``--service`` (one or neither) and ``--speed``."""
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--simulator", dest="target", action="store_const", const="simulator",
                        help="use the embedded simulator (no secret needed; a set one is "
                             "ignored)")
    target.add_argument("--service", dest="target", action="store_const", const="service",
                        help="use the Newo service (NEWO_CLIENT_SECRET must be set)")
    parser.add_argument("--speed", type=speed, default=speed_default,
                        help=f"simulator pacing: 1 = realistic, {speed_help}")


def chosen_target(args: argparse.Namespace, command: str, default: Target) -> Target | None:
    """The target the options chose, else ``default``; None (said on stderr) when the
    service is chosen without a secret."""
    target: Target = args.target or default
    if target == "service" and not has_secret():
        print(f"newo-nb {command}: set NEWO_CLIENT_SECRET to your Agent Creator client secret "
              "first (or use --simulator).", file=sys.stderr)
        return None
    return target


def has_secret() -> bool:
    return bool(os.environ.get("NEWO_CLIENT_SECRET", "").strip())
