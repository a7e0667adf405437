"""Responses that hand the browser a file: one way to say "download this" for every app's views."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV = "text/csv; charset=utf-8"


def attachment(content: bytes | str, filename: str, content_type: str, *, download: bool = True) -> HttpResponse:
    """``content`` as a file named ``filename`` (Japanese names survive: RFC 5987 encoding); with
    ``download=False`` the browser shows it inline (a PDF opened in a tab) under the same name."""
    response = HttpResponse(content, content_type=content_type)
    if disposition := content_disposition_header(download, filename):  # None: inline without a name
        response["Content-Disposition"] = disposition
    return response
