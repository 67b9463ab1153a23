"""Shared fixtures: a real simulator on a loopback port, and clients pointed at it."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import AsyncIterator

import pytest

from newo_nb import Customer, NewoClient, ReconnectPolicy
from newo_nb.simulator import Simulator

_SCRATCH = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Journal into a throwaway file, never the user's own, and forget any Newo settings
    (nbval's kernels inherit this environment when they start)."""
    for name in ("NEWO_CLIENT_SECRET", "NEWO_BASE_URL", "NEWO_ORIGIN"):
        # A developer's own settings must not send tests (or nbval's notebooks) to a service.
        os.environ.pop(name, None)
    config.stash[_SCRATCH] = scratch = tempfile.mkdtemp(prefix="newo-nb-tests-")
    os.environ["NEWO_NB_JOURNAL"] = os.path.join(scratch, "journal.sqlite3")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_SCRATCH, ""), ignore_errors=True)


# Fast reconnects keep fault tests short; the policy is still python-socketio's backoff.
FAST_RECONNECT = ReconnectPolicy(attempts=5, delay=0.05, delay_max=0.2)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(speed=math.inf) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[NewoClient]:
    async with sim.client(reconnect=FAST_RECONNECT, max_retries=3) as newo:
        yield newo


@pytest.fixture
def customer(sim: Simulator) -> Customer:
    """The first sample business, with a fresh external id per test."""
    first = sim.sample_customers()[0]
    return Customer.from_mapping({**_fields(first), "external_customer_id": ""})


def _fields(c: Customer) -> dict[str, object]:
    return {name: getattr(c, name) for name in c.__dataclass_fields__}
