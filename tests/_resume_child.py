"""A separate process that onboards, for tests/test_resume.py to kill with SIGKILL.

Usage: ``python _resume_child.py one|batch CUSTOMERS.json``, with ``NEWO_CLIENT_SECRET``,
``NEWO_BASE_URL`` and ``NEWO_NB_JOURNAL`` set. The customers file holds a list of dicts
(usually without ``external_customer_id``: this process derives the ids itself).

It reports on stdout, one line each, flushed at once so the test can act on it:
``step <external_id> <n>``, ``status <external_id> <status>``, and at the end
``result <json>`` per customer (one mode: with the session's route).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any

from newo_nb import Customer, NewoClient, ReconnectPolicy
from newo_nb._protocol import ServerEvent, StepEvent


def say(*words: object) -> None:
    print(*words, flush=True)


def summary(result: Any, route: str | None = None) -> str:
    return json.dumps({"external_id": result.external_id, "status": result.status,
                       "steps": [s.step_number for s in result.step_events],
                       "max_steps": result.max_steps, "route": route, "error": result.error})


async def one(client: NewoClient, customer: Customer) -> None:
    def on_event(event: ServerEvent) -> None:
        if isinstance(event, StepEvent):
            say("step", customer.external_id, event.step_number)

    session = client.session(customer, on_event=on_event)
    result = await session.run()
    say("result", summary(result, session.route))


async def batch(client: NewoClient, customers: list[Customer]) -> None:
    def on_event(external_id: str, event: ServerEvent) -> None:
        if isinstance(event, StepEvent):
            say("step", external_id, event.step_number)

    def on_status(external_id: str, status: str) -> None:
        say("status", external_id, status)

    done = await client.onboard_many(customers, concurrency=2, on_event=on_event,
                                     on_status=on_status)
    for result in done:
        say("result", summary(result, done.sessions[result.external_id].route))


async def main(mode: str, customers: list[Customer]) -> None:
    for customer in customers:
        say("id", customer.external_id)  # derived here, in this process
    reconnect = ReconnectPolicy(attempts=5, delay=0.05, delay_max=0.2)
    async with NewoClient(reconnect=reconnect) as client:
        if mode == "one":
            await one(client, customers[0])
        else:
            await batch(client, customers)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("newo_nb.session").setLevel(logging.INFO)
    say("ready")
    if os.environ.get("NEWO_TEST_GATE"):  # a race starts when the test says go
        sys.stdin.readline()
    with open(sys.argv[2], encoding="utf-8") as given:
        rows = json.load(given)
    asyncio.run(main(sys.argv[1], [Customer.from_mapping(row) for row in rows]))
