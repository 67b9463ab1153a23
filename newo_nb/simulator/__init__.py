"""An offline Newo service: the documented REST and socket.io API on loopback.

Start it in a notebook with ``sim = await Simulator().start()`` (it runs on the kernel's
loop and never blocks), from a terminal with ``newo-nb simulator`` or
``python -m newo_nb.simulator``. ``Simulator(replay=sample_cassette())`` replays a
recorded run instead of scraping (see ``_replay.py``).
"""

from ._dialects import DIALECTS, Dialect
from ._faults import Faults
from ._server import Call, Simulator
from .cassettes import sample_cassette

__all__ = ["DIALECTS", "Call", "Dialect", "Faults", "Simulator", "sample_cassette"]
