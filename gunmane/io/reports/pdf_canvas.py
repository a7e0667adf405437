"""A reportlab canvas that knows the total page count, for 「x / y ページ」 footers (karte and documents)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportlab.pdfgen.canvas import Canvas

__all__ = ["NumberedCanvas"]


class NumberedCanvas(Canvas):
    """Keeps every page's state and draws ``decorate(canvas, page, total)`` on each when the document is saved.

    reportlab learns the page count only at the end, so headers and footers that print it are deferred.
    """

    def __init__(self, *args: Any, decorate: Callable[[Canvas, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page_states: list[dict[str, Any]] = []
        self._decorate = decorate

    def showPage(self) -> None:  # noqa: N802 (reportlab API)
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._page_states)
        for state in self._page_states:
            self.__dict__.update(state)
            self._decorate(self, self._pageNumber, total)
            super().showPage()
        super().save()
