"""The onboarding app ``newo-nb app`` serves with Voilà: one form, or a batch from a file.

``onboarding.ipynb`` beside this file is the page: it only calls :func:`onboarding_app`, so
the app is plain ipywidgets, testable without a browser. Voilà runs every cell before it
shows the page, so nothing here awaits a run: the person presses Start.

Where it talks to comes from the environment ``newo-nb app`` sets for the kernel:
``NEWO_NB_APP_TARGET`` (``simulator`` or ``service``) and ``NEWO_NB_APP_SPEED`` (the
simulator's pacing). The service's secret stays in ``NEWO_CLIENT_SECRET``, read by the
client inside the kernel: it never becomes a widget trait, so it never reaches the page.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .._files import SUFFIXES, CustomerFileError, read_customer_file

__all__ = ["APP_NOTEBOOK", "SPEED_ENV", "TARGET_ENV", "OnboardingApp", "onboarding_app"]

log = logging.getLogger("newo_nb.app")

APP_NOTEBOOK = Path(__file__).with_name("onboarding.ipynb")
TARGET_ENV = "NEWO_NB_APP_TARGET"
SPEED_ENV = "NEWO_NB_APP_SPEED"
_MAX_UPLOAD = 20_000_000  # bytes; a customer file is far smaller


def onboarding_app(*, simulator: bool | None = None, speed: float | str | None = None
                   ) -> OnboardingApp:
    """The app's page; ``simulator``/``speed`` default to what ``newo-nb app`` set."""
    if simulator is None:
        target = os.environ.get(TARGET_ENV, "").strip().lower()
        # As the widgets decide: no target given, a set secret picks the service.
        simulator = (target == "simulator" if target
                     else not os.environ.get("NEWO_CLIENT_SECRET", "").strip())
    if speed is None:
        speed = os.environ.get(SPEED_ENV, "").strip() or 4.0
    return OnboardingApp(simulator=simulator, speed=speed)


class OnboardingApp(widgets.VBox):
    """Two tabs: one business (``OnboardingWidget``), many from a file upload
    (``BatchOnboardingWidget``), both on the same target."""

    def __init__(self, *, simulator: bool, speed: float | str) -> None:
        from ..widgets import OnboardingWidget

        super().__init__()
        self.add_class("newo-app")
        self._simulator = simulator
        self._speed = speed
        self._loop = _running_loop()
        self.single = OnboardingWidget(simulator=simulator, speed=speed)
        self.batch: Any = None  # the BatchOnboardingWidget of the latest upload
        self._closing: set[asyncio.Future[None]] = set()
        self.upload = widgets.FileUpload(accept=",".join(SUFFIXES), multiple=False,
                                         description="Customer file")
        self.samples = widgets.Button(description="Onboard the 44 samples",
                                      tooltip="every sample business of the simulator")
        self.notice = widgets.HTML()
        self.notice.add_class("newo-app-notice")
        self._batch_slot = widgets.VBox()
        hint = widgets.HTML(
            "<p>A CSV, Excel, Parquet or JSON lines file, one business per row, with columns "
            "<code>name</code>, <code>email</code>, <code>source</code> (the website) and "
            "optionally <code>phone_number</code>, <code>country_code</code>, "
            "<code>referral</code>, <code>external_customer_id</code>, "
            "<code>source_type</code>.</p>")
        controls = [self.upload]
        if simulator:
            controls.append(self.samples)
            self.samples.on_click(lambda _button: self._hand_to_loop(self._show_samples))
        many = widgets.VBox([hint, widgets.HBox(controls), self.notice, self._batch_slot])
        self.tabs = widgets.Tab(children=[self.single, many],
                                titles=("One business", "Many from a file"))
        self.children = [self.tabs]  # each widget carries its own title
        self.upload.observe(lambda change: self._hand_to_loop(self._uploaded), names="value")

    def _hand_to_loop(self, callback: Any) -> None:
        # A comm message may run this on a subshell thread: widgets are made on the loop.
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback)
        else:
            callback()

    def _uploaded(self) -> None:
        if not self.upload.value:
            return
        upload = self.upload.value[0]
        name, content = str(upload["name"]), bytes(upload["content"])
        # Customers' data leaves the widget's state (it would be synced and could be saved);
        # an empty value also lets the same file be uploaded again.
        self.upload.value = ()
        if len(content) > _MAX_UPLOAD:
            self._say(f"{name} is {len(content):,} bytes; the app takes files up to "
                      f"{_MAX_UPLOAD:,}. Use newo-nb onboard FILE for bigger ones.")
            return
        try:
            customers = read_customer_file(content, name=name)
        except CustomerFileError as bad:
            self._say(str(bad))
            return
        skipped = "".join(f"<li>{html.escape(u['label'])}: {html.escape(u['problem'])}</li>"
                          for u in customers.unreadable)
        self._say(f"{name}: {len(customers.rows)} rows read.", extra=(
            f"<ul>{skipped}</ul>" if skipped else ""))
        self._show_batch(customers.rows)

    def _show_samples(self) -> None:
        self._say("The simulator's 44 sample businesses.")
        self._show_batch(None)

    def _show_batch(self, customers: Any) -> None:
        from ..widgets import BatchOnboardingWidget

        previous = self.batch
        if previous is not None and previous.running:
            self._say("A batch is still running: cancel it first, then upload the next file.")
            return
        self.batch = BatchOnboardingWidget(customers, simulator=self._simulator,
                                           speed=self._speed)
        self._batch_slot.children = [self.batch]
        if previous is not None and _running_loop() is not None:
            closing = asyncio.ensure_future(previous.aclose())  # its simulator and client
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    def _say(self, text: str, extra: str = "") -> None:
        self.notice.value = f"<p>{html.escape(text)}</p>{extra}"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
