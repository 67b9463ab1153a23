"""On the embedded simulator the widget offers every sample business to fill the form with."""

from __future__ import annotations

import math

from newo_nb import NewoClient, OnboardingWidget
from newo_nb.simulator import Simulator
from newo_nb.simulator._catalog import load_catalog


async def test_picking_a_sample_fills_the_form_and_onboards_it() -> None:
    w = OnboardingWidget(simulator=True, speed=math.inf)
    try:
        sites = load_catalog()
        assert w.sample_picker is not None
        assert len(w.sample_picker.options) == len(sites)
        assert w.customer.name == sites[0].customer["name"]
        w.sample_picker.value = 5
        assert w.customer.name == sites[5].customer["name"]
        assert w.customer.source.endswith(f"/sites/{sites[5].slug}/")
        result = await w.run()
        assert result.status == "finished"
        assert result.industry == sites[5].industry
    finally:
        await w.aclose()


async def test_no_picker_with_a_given_client(sim: Simulator, client: NewoClient) -> None:
    w = OnboardingWidget(client=client)
    assert w.sample_picker is None
    assert not any(type(child).__name__ == "Dropdown" for child in w.children)
