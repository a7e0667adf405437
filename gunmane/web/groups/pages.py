"""What every page of a group's workspace shares: the frame's context (the group, the active tab, whether
the viewer may edit, the group's settings). The group of the URL comes from
gunmane.web.groups.permissions.viewable_group, which checks that the viewer may see it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gunmane.web.groups import permissions, workspace
from gunmane.web.groups.models import Group


def workspace_context(request: HttpRequest, group: Group, active: str, **extra: Any) -> dict[str, Any]:
    """The template context of a workspace page: ``active`` names the tab; ``extra`` is the page's own."""
    return {"group": group, "active": active, "can_edit": permissions.can_edit_group(request.user, group),
            "spec": f"group-{group.pk}",
            "settings": workspace.settings_of(group), **extra}
