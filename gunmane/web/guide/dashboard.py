"""The signed-in home: the user's municipality (or prefecture) status, groups and next step."""

from __future__ import annotations

from gunmane.web.registry.views import home  # replaced by the dashboard (issue #13 §2)

__all__ = ["home"]
