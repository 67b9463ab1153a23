"""``start()`` outside a running loop says what to do, for both widgets (one shared check)."""

from __future__ import annotations

import pytest

from newo_nb import BatchOnboardingWidget, Customer, OnboardingWidget


def test_start_without_a_running_loop_says_how_to_start() -> None:
    customer = Customer(name="Ana Diaz", email="ana@example.com", phone_number="+12025550143",
                        country_code="US", source="https://example.com",
                        external_customer_id="start-check")
    for widget in (OnboardingWidget(customer=customer),
                   BatchOnboardingWidget(customers=[customer])):
        with pytest.raises(RuntimeError, match=r"start\(\) needs a running asyncio loop"):
            widget.start()
        assert not widget.running
        widget.close()
