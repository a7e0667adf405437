"""Errors of the deterioration engine: a stable code and a message in Japanese and English."""

from __future__ import annotations

from gunmane.engine.errors import EngineError

__all__ = ["DeteriorationError", "InvalidPairs", "NotIdentifiable"]


class DeteriorationError(EngineError):
    """Base error of the deterioration engine; ``grade`` and ``column`` say which grade or input column it is
    about (``column`` is also the engine errors' ``field``)."""

    def __init__(self, code: str, message_ja: str, message_en: str, *, grade: str | None = None,
                 column: str | None = None) -> None:
        super().__init__(code, message_ja, message_en, field=column)
        self.grade = grade
        self.column = column

    def as_json(self, lang: str = "ja") -> dict[str, str | None]:
        return {"code": self.code, "message": self.message(lang), "grade": self.grade, "column": self.column}


class InvalidPairs(DeteriorationError):
    """The pairs are not valid input (missing column, grade out of range, negative interval …)."""


class NotIdentifiable(DeteriorationError):
    """The data cannot identify a parameter (e.g. no pair starts in a grade, no transition out of a grade)."""
