"""Errors as JSON in Japanese, naming the fields: ``{"status": "invalid", "errors": [{"field", "label", …}]}``.

The shape follows the CLI's (``{"status": "invalid", "error": {"code", "message", "field"}}``, cli/errors.py):
``status`` says what happened, each error has ``code``, ``message`` (Japanese) and ``field`` (the JSON name, or
null), plus ``label`` (the field's Japanese name) and, for bulk requests, ``index`` (the item, from 0).
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

STATUS_WORDS = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "not_allowed",
                406: "not_acceptable", 413: "too_large", 415: "unsupported_media_type", 429: "throttled"}


def _labels(view: Any) -> dict[str, str]:
    """JSON field name → its Japanese label, from the view's serializer (if it has one)."""
    try:
        serializer = view.get_serializer()
    except Exception:  # noqa: BLE001 — a view without a serializer: the names alone
        return {}
    serializer = getattr(serializer, "child", serializer)
    return {name: str(f.label) for name, f in getattr(serializer, "fields", {}).items() if f.label}


def flatten(detail: Any, labels: dict[str, str], field: str | None = None,
            index: int | None = None) -> list[dict[str, Any]]:
    """A DRF error detail (dicts, lists, ErrorDetail strings) as a flat list of errors."""
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if field is None and index is None and str(key).isdigit() and isinstance(value, dict):
                out += flatten(value, labels, None, int(key))  # a bulk request's item (DRF keys them by position)
                continue
            name = None if key in ("non_field_errors", "detail") else str(key)
            inner = name if field is None else (f"{field}.{name}" if name else field)
            out += flatten(value, labels, inner, index)
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            if field is None and isinstance(value, dict) and index is None:
                out += flatten(value, labels, None, i)  # a bulk request: one dict per item
            else:
                out += flatten(value, labels, field, index)
    else:
        top = field.split(".", 1)[0] if field else None
        label = labels.get(top) if top else None
        message = str(detail)
        error = {"field": field, "label": label, "code": getattr(detail, "code", "invalid"),
                 "message": f"{label}: {message}" if label else message}
        if index is not None:
            error["index"] = index
            error["message"] = f"{index + 1}件目: {error['message']}"
        out.append(error)
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoPermissionDenied):  # the web's permission functions say whose ledger or group
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("指定したものが見つかりません（番号・コードを確かめてください）。")
    elif isinstance(exc, exceptions.Throttled):  # DRF's Japanese catalogue leaves the wait in English
        wait = math.ceil(exc.wait) if exc.wait is not None else None
        throttled = exceptions.Throttled()
        throttled.wait = wait  # the Retry-After header
        throttled.detail = exceptions.ErrorDetail(
            f"呼び出しが多すぎます。{wait} 秒後にもう一度お試しください。" if wait is not None
            else "呼び出しが多すぎます。しばらく待ってからもう一度お試しください。", code="throttled")
        exc = throttled
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    word = STATUS_WORDS.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(response.data, _labels(context.get("view")))
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        errors = [{"field": None, "label": None, "code": getattr(detail, "code", word), "message": str(detail)}]
    response.data = {"status": word, "errors": errors}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data["retry_after_seconds"] = getattr(exc, "wait", None)
    return response
