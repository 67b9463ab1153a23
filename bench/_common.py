"""What every benchmark shares: the row it reports, CPU and RSS probes, server processes.

A figure is always reported beside a baseline measured in the same run (this machine is
shared and noisy, so absolute numbers drift while ratios hold), and beside its goal.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["REPO", "Row", "ServerProcess", "WorkerCrashed", "current_rss_kib", "peak_rss_kib",
           "raise_open_files_limit", "reset_peak_rss", "run_json_worker", "run_worker",
           "worker_arguments"]

REPO = Path(__file__).resolve().parent.parent

# The smoke run sets this: workers then run in the bench's own process (quicker, same code)
# instead of a fresh interpreter each; only the full run's isolation makes RSS and CPU clean.
IN_PROCESS = False


@dataclass
class Row:
    """One reported figure: ours, the baseline's, their ratio, and the goal it must meet.

    ``ok`` is None where the issue sets no goal (a figure reported for context).
    """

    bench: str
    figure: str
    ours: float | str
    baseline: float | str | None = None
    unit: str = ""
    goal: str = ""
    ok: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if isinstance(self.ours, float | int) and isinstance(self.baseline, float | int):
            return self.ours / self.baseline if self.baseline else None
        return None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def peak_rss_kib() -> int:
    """This process's peak resident set size (VmHWM), in KiB.

    Not ``getrusage().ru_maxrss``: Linux carries that over from the parent across fork and
    exec, so a worker started by a big bench process would report the parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> None:
    """Start the peak (VmHWM) afresh from the current RSS (Linux ≥ 4.0)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def current_rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


class ServerProcess:
    """A server in its own process (so its CPU is not ours) that prints its URL first.

    >>> with ServerProcess(["-m", "bench._stream_server"]) as url: ...   # doctest: +SKIP
    """

    def __init__(self, args: list[str], *, ready_prefix: str = "URL ") -> None:
        self.args = args
        self.ready_prefix = ready_prefix
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, *self.args], cwd=REPO, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # blocks until the server says where it listens
            if line.startswith(self.ready_prefix):
                return line[len(self.ready_prefix):].strip()
        raise RuntimeError(f"server {self.args} exited before printing its URL")

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def run_json_worker(args: list[str], *, timeout: float = 600) -> dict[str, Any]:
    """Run ``python <args>`` in a fresh process and parse the JSON it prints last."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise WorkerCrashed(args, done.returncode, done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


class WorkerCrashed(RuntimeError):
    """A worker exited with an error: ``cause`` is its exception (the last traceback's last
    line), not the noise libraries print at exit after it."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        # The uncaught exception's traceback comes first; what the interpreter prints while
        # shutting down ("Exception ignored in ...: Event loop is closed") comes after it.
        lines = stderr.splitlines()
        starts = [i for i, ln in enumerate(lines) if ln.startswith("Traceback (most recent")
                  and not (i and lines[i - 1].startswith("Exception ignored"))]
        trace = lines[starts[0]:] if starts else lines
        last = [ln for ln in trace[1:] if ln and not ln.startswith((" ", "Traceback"))]
        self.cause = last[0] if last else f"exit status {returncode}"
        trace = "\n".join(trace)
        super().__init__(f"worker {args} failed ({returncode}): {self.cause}\n"
                         f"{trace[:3000]}")


def worker_arguments(module: str, kinds: list[str], size: str,
                     argv: list[str]) -> argparse.Namespace:
    """A worker's command line: ``--worker KIND --url URL --SIZE N [--journal-dir DIR]``."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}")
    parser.add_argument("--worker", choices=kinds, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument(f"--{size}", type=int, required=True)
    parser.add_argument("--journal-dir", default=tempfile.gettempdir())
    return parser.parse_args(argv)


def raise_open_files_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit (a thousand
    concurrent sessions need more than the usual 1,024 descriptors); returns the limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run_worker(module: str, argv: list[str], *, timeout: float = 900) -> dict[str, Any]:
    """Run ``module.worker(argv)``: in a fresh interpreter, or here when IN_PROCESS."""
    if IN_PROCESS:
        found: dict[str, Any] = importlib.import_module(module).worker(argv)
        return found
    return run_json_worker(["-m", module, *argv], timeout=timeout)
