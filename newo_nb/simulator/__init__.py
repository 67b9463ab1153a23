"""An offline Newo service: the documented REST and socket.io API on loopback.

Start it in a notebook with ``sim = await Simulator().start()`` (it runs on the kernel's
loop and never blocks), from a terminal with ``newo-nb simulator`` or
``python -m newo_nb.simulator``. ``Simulator(replay=sample_cassette())`` replays a
recorded run instead of scraping (see ``_replay.py``).
"""

from ._catalog import SampleCustomer, SampleSite, answer_matches, load_catalog
from ._dialects import DIALECTS, Dialect
from ._faults import Faults
from ._server import Call, Simulator
from ._speed import checked_speed
from .cassettes import sample_cassette

__all__ = ["DIALECTS", "Call", "Dialect", "Faults", "SampleCustomer", "SampleSite", "Simulator",
           "answer_matches", "checked_speed", "load_catalog", "sample_cassette"]
