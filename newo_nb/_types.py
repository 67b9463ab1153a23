"""One vocabulary: the names every other module spells the same way.

Each set of words is written once, as a ``Literal`` for the type checker, and the runtime
tuples are derived from it with :func:`typing.get_args`, so a new status or stage is added
in one place. Also here: the one clock (:func:`now`, UTC) and the one spelling of a sample
customer's id (:func:`sample_external_id`).
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal, get_args

__all__ = ["BUSINESS_STATUSES", "ENDED_STATUSES", "INTEGRATION_IDN", "KNOWN_STAGES", "STAGES",
           "STATUSES", "TIMESTAMP", "BatchStatus", "BusinessStatus", "Stage", "Status", "now",
           "sample_external_id"]

# How one onboarding run stands: running, or how it ended.
Status = Literal["running", "finished", "error", "timeout", "cancelled"]
# A business in a batch: waiting for a worker, or a run's status.
BusinessStatus = Literal["queued", Status]
BatchStatus = Literal["ready", "running", "finished", "cancelled"]
# The documented stages, in order. Stages are an open set on the wire (stage_0..stage_4,
# any new text): these are the ones known to come in this order.
Stage = Literal["preprocessing", "stage", "postprocessing"]

STATUSES: Final[tuple[Status, ...]] = get_args(Status)
BUSINESS_STATUSES: Final[tuple[BusinessStatus, ...]] = get_args(BusinessStatus)
STAGES: Final[tuple[Stage, ...]] = get_args(Stage)
KNOWN_STAGES: Final = frozenset(STAGES)
ENDED_STATUSES: Final = frozenset(STATUSES) - {"running"}  # how a run can end

INTEGRATION_IDN: Final = "newo_chat"  # the integration the service's events name
TIMESTAMP: Final = "datetime64[ns, UTC]"  # the dtype of every time column in a frame
_SAMPLE_PREFIX: Final = "sample-"


def now() -> dt.datetime:
    """The current time, in UTC (every time the package stores is UTC)."""
    return dt.datetime.now(dt.timezone.utc)


def sample_external_id(slug: str) -> str:
    """The ``external_customer_id`` of the bundled sample site ``slug``.

    >>> sample_external_id("la-casa")
    'sample-la-casa'
    """
    return _SAMPLE_PREFIX + slug
