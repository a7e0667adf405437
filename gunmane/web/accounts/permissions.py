"""Who may see and edit what: the rule of the whole site, and the ledger's half of it.

The rule (DESIGN "Who may see what"; the same table is in docs/permissions.md):

| data | signed in, no relation | member municipality | its prefecture | accepted group partner | admin |
| --- | --- | --- | --- | --- | --- |
| public statistics, カルテ of public figures, catalogues, guides | read | read | read | read | read |
| ledger-derived figures (facility counts, 点検期限切れ, 措置未着手, grades) | only if published | read | read | read | read |
| the ledger itself (facilities, inspections, measures, imports) | – | read; editors edit | read | – (only through the group's pages) | all |
| a group's settings, scenarios, documents, survey results, group computations | – | if an accepted member | if an accepted member | read; editors edit | all |
| an invitation to a group | – | its editors accept or decline | its editors accept or decline | – | all |

- Membership of a group is by consent: a municipality is invited, and becomes a member only when an editor
  of its own accepts. Until then (and after it declines or leaves) none of its data is used or shown in
  the group, and its staff do not see the group (except the invitation).
- A group's computations take their members from the group's accepted members, never from a user's file.
- Visitors who are not signed in see the public pages (public statistics, the カルテ of public figures, the
  guide's pages; ledger figures only where a municipality publishes them) and are sent to the login page
  everywhere else (gunmane.web.access: the URL table decides); the survey answer links (a secret token per
  respondent) and the login page are open.

Where each row is decided: the ledger's rows here (the ledger's importer and views ask them, so accounts
sits below registry and reaches registry's Municipality through Membership's relation instead of importing
it); a group's rows, invitations and the ledger-derived figures (which follow group partnership) in
gunmane.web.groups.permissions; which rule governs each URL, and the methods it answers, in
gunmane.web.access.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from gunmane.web.accounts.models import ROLE_RANK, Membership, Role

AnyUser = AbstractBaseUser | AnonymousUser
EDITING_ROLES = (Role.EDITOR, Role.ADMIN)
#: a queryset of registry's Municipality (accounts does not import registry: see the module docstring)
Municipalities = QuerySet[Any]


def is_superuser(user: AnyUser) -> bool:
    """A signed-in administrator: sees and may change everything."""
    return bool(getattr(user, "is_superuser", False)) and user.is_authenticated


def municipality_model() -> Any:
    """registry's Municipality, found through Membership's foreign key (registry builds on accounts)."""
    return Membership._meta.get_field("municipality").related_model


def _user_memberships(user: AnyUser) -> QuerySet[Membership]:
    """The user's memberships; none for the anonymous user (no pk)."""
    if user.pk is None:
        return Membership.objects.none()
    return Membership.objects.filter(user_id=user.pk)


def _memberships(user: AnyUser) -> QuerySet[Membership]:
    return _user_memberships(user).select_related("municipality")


def own_municipality_ids(user: AnyUser, *, editing: bool = False) -> QuerySet[Membership, Mapping[str, Any]]:
    """The pks of the governments the user works for (as values() for subqueries)."""
    qs = _user_memberships(user)
    if editing:
        qs = qs.filter(role__in=EDITING_ROLES)
    return qs.values("municipality_id")


# --------------------------------------------------------------------------- the ledger itself


def viewable_municipalities(user: AnyUser) -> Municipalities:
    """Local governments whose ledger (facility by facility) the user may read: its own, and a
    prefecture's staff the municipalities of the prefecture (vertical collaboration)."""
    municipality = municipality_model()
    if not user.is_authenticated:
        return municipality.objects.none()
    if is_superuser(user):
        return municipality.objects.all()
    own = own_municipality_ids(user)
    pref_ids = Membership.objects.filter(
        user_id=user.pk, municipality__kind=municipality.Kind.PREFECTURE
    ).values("municipality__prefecture_id")
    return municipality.objects.filter(Q(pk__in=own) | Q(prefecture_id__in=pref_ids))


def editable_municipalities(user: AnyUser) -> Municipalities:
    """Local governments whose ledger the user may change (editors and admins of that very government)."""
    municipality = municipality_model()
    if not user.is_authenticated:
        return municipality.objects.none()
    if is_superuser(user):
        return municipality.objects.all()
    return municipality.objects.filter(pk__in=own_municipality_ids(user, editing=True))


def can_view_ledger(user: AnyUser, municipality: Any) -> bool:
    return viewable_municipalities(user).filter(pk=municipality.pk).exists()


def can_edit_ledger(user: AnyUser, municipality: Any) -> bool:
    return editable_municipalities(user).filter(pk=municipality.pk).exists()


def require_view(user: AnyUser, municipality: Any) -> None:
    if not can_view_ledger(user, municipality):
        raise PermissionDenied(f"{municipality.name}の施設台帳を閲覧する権限がありません。")


def require_edit(user: AnyUser, municipality: Any) -> None:
    if not can_edit_ledger(user, municipality):
        raise PermissionDenied(f"{municipality.name}の施設台帳を編集する権限がありません。")


def role_in(user: AnyUser, municipality: Any) -> str | None:
    """The user's own role in that government (None if not a member)."""
    m = _memberships(user).filter(municipality=municipality).first()
    return m.role if m else None


def has_role(user: AnyUser, municipality: Any, role: Role) -> bool:
    current = role_in(user, municipality)
    return current is not None and ROLE_RANK[Role(current)] >= ROLE_RANK[role]
