"""Errors of the deterioration engine: a stable code and a message in Japanese and English."""

from __future__ import annotations

__all__ = ["DeteriorationError", "InvalidPairs", "NotIdentifiable"]


class DeteriorationError(Exception):
    """Base error; ``code`` is stable (snake_case), ``message_ja`` is shown to users, ``message_en`` with GUNMANE_LANG=en."""

    def __init__(self, code: str, message_ja: str, message_en: str, *, grade: str | None = None,
                 column: str | None = None) -> None:
        super().__init__(code, message_ja, message_en)
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en
        self.grade = grade
        self.column = column

    def __str__(self) -> str:
        return f"{self.message_ja} ({self.code})"

    def as_json(self, lang: str = "ja") -> dict[str, str | None]:
        return {"code": self.code, "message": self.message_en if lang == "en" else self.message_ja,
                "grade": self.grade, "column": self.column}


class InvalidPairs(DeteriorationError):
    """The pairs are not valid input (missing column, grade out of range, negative interval …)."""


class NotIdentifiable(DeteriorationError):
    """The data cannot identify a parameter (e.g. no pair starts in a grade, no transition out of a grade)."""
