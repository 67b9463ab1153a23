"""``newo-nb app``: serve the onboarding page (one form, or a batch from a file) with Voilà.

For sales demos and for colleagues who never open a notebook. Voilà comes with the
``app`` extra (``pip install 'newo-nb[app]'``); without it the command says so. Voilà runs
as a child process on our interpreter; the page is ``newo_nb/_app/onboarding.ipynb`` and
where it talks to is passed to its kernel in the environment (see :mod:`newo_nb._app`).
The secret, when the service is used, stays in ``NEWO_CLIENT_SECRET``: never on the
command line (``ps`` shows that), never in the page.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
from typing import Any

from ._cli_options import add_target_options, chosen_target, has_secret

__all__ = ["add_app_parser", "voila_command"]

INSTALL_HINT = "pip install 'newo-nb[app]'"
DESCRIPTION = f"""Serve an onboarding page with Voilà: one business from a form, or many from an
uploaded CSV, Excel, Parquet or JSON lines file. It talks to the Newo service when
NEWO_CLIENT_SECRET is set, else to the embedded simulator. Needs Voilà: {INSTALL_HINT}."""


def add_app_parser(sub: Any) -> None:
    app = sub.add_parser("app", help="serve the onboarding page with Voilà (needs newo-nb[app])",
                         description=DESCRIPTION)
    add_target_options(app, speed_default=4.0,
                       speed_help="4 (default) = four times faster, 'instant' = none")
    app.add_argument("--host", default="127.0.0.1", help="address to serve on")
    app.add_argument("--port", type=int, default=8866, help="port to serve on (default 8866)")
    app.add_argument("--open", action="store_true", help="open the page in a browser")
    app.set_defaults(handler=run_app)


def voila_command(*, host: str, port: int, open_browser: bool) -> list[str]:
    """The Voilà command line serving the app notebook (our interpreter, our kernel)."""
    from ._app import APP_NOTEBOOK

    command = [sys.executable, "-m", "voila", str(APP_NOTEBOOK), f"--port={port}",
               f"--Voila.ip={host}", "--strip_sources=True", "--show_tracebacks=False",
               "--theme=light", "--preheat_kernel=True"]
    if not open_browser:
        command.append("--no-browser")
    return command


def run_app(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("voila") is None:
        print(f"newo-nb app: Voilà is not installed. Install it with: {INSTALL_HINT}",
              file=sys.stderr)
        return 2
    target = chosen_target(args, "app", default="service" if has_secret() else "simulator")
    if target is None:
        return 2
    from ._app import SPEED_ENV, TARGET_ENV

    env = {**os.environ, TARGET_ENV: target, SPEED_ENV: str(args.speed)}
    where = "the Newo service" if target == "service" else "the embedded simulator"
    print(f"newo-nb app on http://{args.host}:{args.port}/ (talking to {where}); Ctrl-C stops "
          "it", flush=True)
    voila = subprocess.Popen(  # noqa: S603 - our interpreter, our notebook, our flags
        voila_command(host=args.host, port=args.port, open_browser=args.open), env=env)
    # Stopped with SIGTERM (a service manager, a test): Voilà and its kernels stop too.
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: voila.terminate())
    try:
        return voila.wait()
    except KeyboardInterrupt:  # Voilà got the same Ctrl-C and stops itself
        return voila.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
