"""Errors of the life-cycle cost and planning engines (stable code, Japanese and English message)."""

from __future__ import annotations

from gunmane.engine.deterioration import DeteriorationError

__all__ = ["LccError"]


class LccError(DeteriorationError):
    """Invalid input to the LCC or plan computation, or a plan that cannot be made (message in Japanese)."""
