"""Test-run hygiene for everything pytest collects here (tests/ and nbval's notebooks/).

A run journals into a throwaway file, never the user's own, and forgets the developer's Newo
settings, so no test or notebook talks to a real service by accident (nbval's kernels
inherit this environment when they start).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_SCRATCH = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    for name in ("NEWO_CLIENT_SECRET", "NEWO_BASE_URL", "NEWO_ORIGIN"):
        os.environ.pop(name, None)
    config.stash[_SCRATCH] = scratch = tempfile.mkdtemp(prefix="newo-nb-tests-")
    os.environ["NEWO_NB_JOURNAL"] = os.path.join(scratch, "journal.sqlite3")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_SCRATCH, ""), ignore_errors=True)
