"""Notebook widgets, built from core ipywidgets only (no extra JavaScript).

Imported lazily by :mod:`newo_nb` so ``import newo_nb`` does not import ipywidgets.
"""

from ._batch import BatchOnboardingWidget
from ._onboarding import OnboardingWidget
from ._throttle import RedrawThrottle

__all__ = ["BatchOnboardingWidget", "OnboardingWidget", "RedrawThrottle"]
