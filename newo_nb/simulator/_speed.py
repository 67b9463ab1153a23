"""The simulator's ``speed``: how much faster than a real scrape a run goes.

>>> checked_speed("instant"), checked_speed(4), checked_speed("2.5")
(inf, 4.0, 2.5)
>>> checked_speed(0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: speed=0 is not a speed: use a number above 0 (1 = realistic pacing) or "instant" ...
"""

from __future__ import annotations

import math

__all__ = ["checked_speed"]

_FIX = 'use a number above 0 (1 = realistic pacing) or "instant" for no pauses'


def checked_speed(value: object) -> float:
    """``value`` as a pacing divisor: a number above 0, ``math.inf`` or ``"instant"``.

    Raises ``ValueError`` naming ``speed``, the value and the fix: zero, negative numbers,
    NaN, booleans and words other than "instant" would otherwise fail every run later with a
    ``ZeroDivisionError`` or pauses of no length that mean nothing.
    """
    if isinstance(value, str) and value.strip().casefold() == "instant":
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"speed={value!r} is not a speed: {_FIX}")
    try:
        speed = float(value)
    except ValueError:
        raise ValueError(f"speed={value!r} is not a number: {_FIX}") from None
    if math.isnan(speed) or speed <= 0:
        raise ValueError(f"speed={value!r} is not a speed: {_FIX}")
    return speed
