"""The client secret never leaks: not in logs at debug level, reprs, exception text or frames.

A simulator with a known secret runs whole onboardings (a clean one, one with a dropped
connection, one that fails, refused ones); then everything a user could see, save or paste
is searched for the secret. (Notebooks and the journal have their own leak tests.)
"""

from __future__ import annotations

import io
import logging
import math
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from newo_nb import Customer, NewoClient, NewoError
from newo_nb.simulator import Simulator

from .conftest import FAST_RECONNECT

SECRET = f"sk-leaktest-{uuid.uuid4().hex}"


@pytest.fixture
async def secret_sim() -> AsyncIterator[Simulator]:
    async with Simulator(speed=math.inf, client_secret=SECRET) as simulator:
        yield simulator


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Every record from every logger, at DEBUG, formatted with tracebacks, into one buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _customer(sim: Simulator, faults: dict[str, object] | None = None) -> Customer:
    first = sim.sample_customers()[0]
    query = {"simulator_faults": faults} if faults else None
    return Customer(name=first.name, email=first.email, source=first.source,
                    phone_number=first.phone_number, country_code=first.country_code,
                    query_params=query,
                    external_customer_id=f"leak-{uuid.uuid4().hex[:12]}")  # a run each


async def test_secret_never_appears_in_logs_reprs_errors_or_frames(
    secret_sim: Simulator, debug_log: io.StringIO
) -> None:
    seen: list[str] = []
    async with secret_sim.client(reconnect=FAST_RECONNECT) as client:
        seen += [repr(client), str(client)]
        for faults in (None, {"drop_after_step": 2}, {"error_after_step": 1}, {"garbage": True}):
            session = client.session(_customer(secret_sim, faults), timeout=20)
            result = await session.run()
            seen += [repr(session), repr(result), str(result), repr(result.summary())]
            seen += [result.steps.to_csv(), result.events.to_csv(), result.summary().to_csv()]
            seen += [repr(event) for event in result.log]
        info = await client.request_agent_info(session.external_id)
        seen.append(repr(info))
        seen.append(repr(await client.chat_settings()))

    for bad in (NewoClient("sk-wrong-" + SECRET[-8:], base_url=secret_sim.base_url),
                secret_sim.client(origin="https://elsewhere.example")):
        async with bad:
            with pytest.raises(NewoError) as refused:
                await bad.onboard(_customer(secret_sim))
        error = refused.value
        seen += [str(error), repr(error), *getattr(error, "__notes__", [])]

    text = debug_log.getvalue()
    assert "DEBUG" in text  # the libraries did log at debug level
    assert secret_sim.base_url.split("//")[1] in text  # and talked about our server
    assert "client_secret=***" in text  # a line that carried the secret was redacted
    assert SECRET not in text
    for item in seen:
        assert SECRET not in item
