"""Errors of the survival engine: a stable code and a message in Japanese and English."""

from __future__ import annotations

from gunmane.engine.errors import EngineError

__all__ = ["InvalidLives", "NotIdentifiable", "SurvivalError"]


class SurvivalError(EngineError):
    """Base error of the survival engine; ``column`` names the input it is about (also the engine errors'
    ``field``)."""

    def __init__(self, code: str, message_ja: str, message_en: str, *, column: str | None = None) -> None:
        super().__init__(code, message_ja, message_en, field=column)
        self.column = column

    def as_json(self, lang: str = "ja") -> dict[str, str | None]:
        return {"code": self.code, "message": self.message(lang), "column": self.column}


class InvalidLives(SurvivalError):
    """The service-life records are not valid input (arrays of different lengths, a year that is not a number …)."""


class NotIdentifiable(SurvivalError):
    """The records cannot identify the model (no renewal at all, the shape running off to 0 or infinity)."""
