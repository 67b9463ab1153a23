"""Shared fixtures: a real simulator on a loopback port, and clients pointed at it."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from newo_nb import Customer, NewoClient, ReconnectPolicy
from newo_nb.simulator import Simulator

# The journal and NEWO_* isolation of a test run lives in the top-level conftest.py.

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
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
async def jclient(sim: Simulator, journal_path: Path) -> AsyncIterator[NewoClient]:
    """A client journalling into this test's own file (``journal_path``)."""
    async with sim.client(reconnect=FAST_RECONNECT, journal=journal_path) as newo:
        yield newo


@pytest.fixture
def customer(sim: Simulator) -> Customer:
    """The first sample business, with a fresh external id per test."""
    first = sim.sample_customers()[0]
    return Customer.from_mapping({**_fields(first),
                                  "external_customer_id": f"t-{uuid.uuid4().hex[:12]}"})


def _fields(c: Customer) -> dict[str, object]:
    return {name: getattr(c, name) for name in c.__dataclass_fields__}
