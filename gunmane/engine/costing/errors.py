"""Errors of the costing engine (積算): a stable code and a message in Japanese and English."""

from __future__ import annotations

from gunmane.engine.errors import EngineError

__all__ = ["CostingError", "InvalidEdition", "UnknownWorkType"]


class CostingError(EngineError):
    """Base error of the costing engine (積算)."""


class UnknownWorkType(CostingError):
    """The work type (工種区分) or service is not in the edition; the message lists the known ones."""


class InvalidEdition(CostingError):
    """An edition's tables are incomplete or inconsistent (missing column, band limits reversed …)."""
