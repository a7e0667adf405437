"""Errors of the life-cycle cost and planning engines (stable code, Japanese and English message)."""

from __future__ import annotations

from gunmane.engine.errors import EngineError

__all__ = ["LccError"]


class LccError(EngineError):
    """Invalid input to the LCC or plan computation, or a plan that cannot be made (message in Japanese).

    An engine error of its own (no code catches it as a deterioration error); its JSON keeps the shape of
    `gunmane lcc` / `gunmane plan` — ``grade`` and ``column`` as when it was one (always null).
    """

    def as_json(self, lang: str = "ja") -> dict[str, str | None]:
        return {"code": self.code, "message": self.message(lang), "grade": None, "column": None}
