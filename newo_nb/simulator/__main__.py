"""``python -m newo_nb.simulator``: the same as ``newo-nb simulator``."""

import sys

from ..cli import main

raise SystemExit(main(["simulator", *sys.argv[1:]]))
