"""Errors of the effects engine (効果試算): a stable code and a message in Japanese and English."""

from __future__ import annotations

from gunmane.engine.errors import EngineError

__all__ = ["EffectsError", "InvalidInput", "UnknownParameter"]


class EffectsError(EngineError):
    """Base error of the effects engine (効果試算)."""


class InvalidInput(EffectsError):
    """An input value is out of range or inconsistent (negative count, probability outside [0, 1] …)."""


class UnknownParameter(EffectsError):
    """A parameter override names no declared parameter."""
