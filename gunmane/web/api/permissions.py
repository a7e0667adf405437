"""The API's permission: the URL table (gunmane.web.access) names the rule, the web's permission modules decide it.

One authority: the rule of each API URL is in access.URL_RULES like every page's, and each rule is checked by the
same functions the pages call (accounts.permissions for the ledger, groups.permissions for groups). The objects of
the rule come from the URL: ``lg_code`` (a municipality's ledger), ``import_pk`` (an import's municipality),
``group_pk`` (a group).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from rest_framework import permissions
from rest_framework.request import Request

from gunmane.web.accounts import permissions as ledger
from gunmane.web.groups import permissions as groups
from gunmane.web.groups.models import Group
from gunmane.web.registry.models import ImportRecord, Municipality


def rule_of(request: Request) -> str | None:
    """The Access the URL table gives this request's URL and method (None: not listed, refused)."""
    from gunmane.web.access import ALWAYS, url_rule

    match = request.resolver_match
    rule = url_rule(match.view_name) if match else None
    method = ALWAYS.get(request.method or "", request.method or "")
    return rule.get(method) if rule else None


def municipality_in_path(view: Any) -> Municipality:
    """The municipality whose ledger the URL is about (404 if unknown); kept on the view."""
    if getattr(view, "municipality", None) is None:
        kwargs = view.kwargs
        if "import_pk" in kwargs:
            record = get_object_or_404(ImportRecord.objects.select_related("municipality"), pk=kwargs["import_pk"])
            view.import_record = record
            if record.municipality is None:  # a national-data import of the whole country: administrators only
                raise PermissionDenied("この取込記録を閲覧する権限がありません。")
            view.municipality = record.municipality
        else:
            view.municipality = get_object_or_404(Municipality, lg_code=kwargs.get("lg_code"))
    municipality: Municipality = view.municipality
    return municipality


def group_in_path(view: Any) -> Group:
    if getattr(view, "group", None) is None:
        view.group = get_object_or_404(Group, pk=view.kwargs.get("group_pk"))
    group: Group = view.group
    return group


def check(access: str, user: Any, view: Any) -> None:
    """Raise PermissionDenied (403, with the web's message) or Http404 unless ``user`` passes ``access``."""
    from gunmane.web.access import ANONYMOUS, Access

    if access in ANONYMOUS or access == Access.SIGNED_IN:
        return
    if access == Access.ADMIN:
        if not ledger.is_superuser(user):
            raise PermissionDenied("管理者だけが使えます。")
    elif access == Access.MUNICIPALITY_EDITOR:
        if not ledger.editable_municipalities(user).exists():
            raise PermissionDenied("団体の編集者だけが使えます。")
    elif access == Access.LEDGER_VIEW:
        ledger.require_view(user, municipality_in_path(view))
    elif access == Access.LEDGER_EDIT:
        if "import_pk" in view.kwargs and ledger.is_superuser(user):
            return
        ledger.require_edit(user, municipality_in_path(view))
    elif access == Access.GROUP_VIEW:
        groups.require_view_group(user, group_in_path(view))
    elif access == Access.GROUP_EDIT:
        group = group_in_path(view)
        groups.require_view_group(user, group)
        groups.require_edit_group(user, group)
    else:
        raise PermissionDenied("この操作は API では使えません。")


class UrlRule(permissions.BasePermission):
    """The URL table's rule for the request, checked by the web's own permission functions."""

    def has_permission(self, request: Request, view: Any) -> bool:
        from gunmane.web.access import ANONYMOUS

        access = rule_of(request)
        if access is None:
            return False
        if access not in ANONYMOUS and not request.user.is_authenticated:
            return False  # 401 (DRF: NotAuthenticated, with the token scheme in WWW-Authenticate)
        check(access, request.user, view)
        return True
