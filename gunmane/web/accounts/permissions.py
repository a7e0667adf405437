"""Who may see and edit what — the single place every view, API and CLI path asks.

Rules (DESIGN.md, issue #2):
- Reference statistics of every local government are public open data: any signed-in user sees them.
- A municipality's ledger (facilities, inspections, measures, imports) is visible to its members
  (any role), to members of its prefecture's own government (vertical collaboration: the prefecture
  coordinator follows its municipalities), and to superusers.
- Editing (upload, import, export of editable templates) needs role editor or admin in that very
  government; a prefecture does not edit its municipalities' ledgers.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from gunmane.web.accounts.models import ROLE_RANK, Membership, Role
from gunmane.web.registry.models import Municipality, MunicipalityKind

AnyUser = AbstractBaseUser | AnonymousUser


def _memberships(user: AnyUser) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user.pk).select_related("municipality")


def viewable_municipalities(user: AnyUser) -> QuerySet[Municipality]:
    """Local governments whose ledger the user may read."""
    if not user.is_authenticated:
        return Municipality.objects.none()
    if user.is_superuser:
        return Municipality.objects.all()
    own = Membership.objects.filter(user_id=user.pk).values("municipality_id")
    pref_ids = Membership.objects.filter(
        user_id=user.pk, municipality__kind=MunicipalityKind.PREFECTURE
    ).values("municipality__prefecture_id")
    return Municipality.objects.filter(Q(pk__in=own) | Q(prefecture_id__in=pref_ids))


def editable_municipalities(user: AnyUser) -> QuerySet[Municipality]:
    """Local governments whose ledger the user may change."""
    if not user.is_authenticated:
        return Municipality.objects.none()
    if user.is_superuser:
        return Municipality.objects.all()
    ids = Membership.objects.filter(user_id=user.pk, role__in=[Role.EDITOR, Role.ADMIN]).values(
        "municipality_id"
    )
    return Municipality.objects.filter(pk__in=ids)


def can_view_ledger(user: AnyUser, municipality: Municipality) -> bool:
    return viewable_municipalities(user).filter(pk=municipality.pk).exists()


def can_edit_ledger(user: AnyUser, municipality: Municipality) -> bool:
    return editable_municipalities(user).filter(pk=municipality.pk).exists()


def require_view(user: AnyUser, municipality: Municipality) -> None:
    if not can_view_ledger(user, municipality):
        raise PermissionDenied(f"{municipality.name}の施設台帳を閲覧する権限がありません。")


def require_edit(user: AnyUser, municipality: Municipality) -> None:
    if not can_edit_ledger(user, municipality):
        raise PermissionDenied(f"{municipality.name}の施設台帳を編集する権限がありません。")


def role_in(user: AnyUser, municipality: Municipality) -> str | None:
    """The user's own role in that government (None if not a member)."""
    m = _memberships(user).filter(municipality=municipality).first()
    return m.role if m else None


def has_role(user: AnyUser, municipality: Municipality, role: Role) -> bool:
    current = role_in(user, municipality)
    return current is not None and ROLE_RANK[Role(current)] >= ROLE_RANK[role]
