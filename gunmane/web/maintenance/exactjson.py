"""Django's JSON serialization format, except that datetimes and times keep their microseconds.

The stock DjangoJSONEncoder cuts them to milliseconds, so a row moved between SQLite and PostgreSQL through
``dumpdata`` would come back different (``last_login``, ``created_at`` …). Registered for dumpdata as
``gunmane-json``; the files it writes are plain Django JSON, read back by the stock ``json`` deserializer.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.serializers.json import Deserializer, DjangoJSONEncoder
from django.core.serializers.json import Serializer as JSONSerializer

FORMAT = "gunmane-json"


class ExactEncoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, (datetime.datetime, datetime.time)):
            return o.isoformat()
        return super().default(o)


class Serializer(JSONSerializer):
    def _init_options(self) -> None:
        super()._init_options()  # type: ignore[misc]  # Django's; not in django-stubs
        self.json_kwargs["cls"] = ExactEncoder


__all__ = ["FORMAT", "Deserializer", "Serializer"]
