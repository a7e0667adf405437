"""The schema's error answers: every operation documents the error JSON of api.errors for the codes it can give."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "description": "エラー（日本語の説明と項目名つき）。",
    "properties": {
        "status": {"type": "string", "description": "invalid・unauthenticated・forbidden・not_found・throttled など"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string", "nullable": True, "description": "項目（JSON の名前）"},
            "label": {"type": "string", "nullable": True, "description": "項目の日本語名"},
            "code": {"type": "string"},
            "message": {"type": "string", "description": "日本語の説明"},
            "index": {"type": "integer", "description": "一括登録の何件目か（0 から）"},
        }, "required": ["code", "message"]}},
        "retry_after_seconds": {"type": "number", "nullable": True},
        # an invalid scenario answers as `gunmane effects` does: {"status": "invalid", "error": {…}}
        "error": {"type": "object", "additionalProperties": True},
    },
    "required": ["status"],
}
#: the operations' groups on the documentation page (drf-spectacular names them by the first path segment)
TAGS = {"municipalities": "団体・台帳", "imports": "取り込み", "karte": "カルテ", "groups": "群",
        "invitations": "招待"}
CODES = {"400": "入力が正しくありません", "401": "API トークン（またはログイン）が必要です", "403": "権限がありません",
         "404": "見つかりません", "405": "この URL はこの方法では使えません", "429": "呼び出しが多すぎます（少し待ってから）"}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            operation["tags"] = [TAGS.get(tag, tag) for tag in operation.get("tags", [])]
            responses = operation.setdefault("responses", {})
            for code, description in CODES.items():
                if code not in responses or "content" not in responses[code]:
                    responses[code] = {"description": description, **ref}
    return result
