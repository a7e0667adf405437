"""Who may see and edit a group: its rows of the site's rule (the table is in gunmane.web.accounts.permissions).

A group is seen by the staff of its accepted members and changed by their editors; an invitation is
answered by the invited government's own editors; the ledger-derived figures of a municipality are shown to
its accepted group partners too. Every view of the group workspace, its surveys and its カルテ asks here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from gunmane.web.accounts.models import Membership
from gunmane.web.accounts.permissions import (
    EDITING_ROLES,
    AnyUser,
    can_edit_ledger,
    is_superuser,
    own_municipality_ids,
    viewable_municipalities,
)
from gunmane.web.groups.models import Group, GroupMember, MemberRole, MemberStatus
from gunmane.web.registry.models import Municipality

# --------------------------------------------------------------------------- a group's rows (by consent)


def groups_of(user: AnyUser) -> QuerySet[Group]:
    """Groups in which a government the user works for is an accepted member (superusers: all)."""
    if not user.is_authenticated:
        return Group.objects.none()
    if is_superuser(user):
        return Group.objects.all()
    ids = GroupMember.objects.accepted().filter(municipality_id__in=own_municipality_ids(user)).values("group_id")
    return Group.objects.filter(pk__in=ids)


def can_view_group(user: AnyUser, group: Group) -> bool:
    """Staff of an accepted member (any role, the prefecture included only when it accepted)."""
    return groups_of(user).filter(pk=group.pk).exists()


def can_edit_group(user: AnyUser, group: Group) -> bool:
    """Editors of an accepted, non-observer member change the group's shared settings, checklist, scenarios."""
    if is_superuser(user):
        return True
    if not user.is_authenticated:
        return False
    return group.accepted_members().exclude(role=MemberRole.OBSERVER).filter(
        municipality_id__in=own_municipality_ids(user, editing=True)).exists()


def can_answer_invitation(user: AnyUser, member: GroupMember) -> bool:
    """Only an editor of the invited government itself accepts or declines (or, later, leaves)."""
    if not user.is_authenticated:
        return False
    return is_superuser(user) or Membership.objects.filter(
        user_id=user.pk, municipality_id=member.municipality_id, role__in=EDITING_ROLES).exists()


def can_invite(user: AnyUser, group: Group) -> bool:
    """The editors of accepted members invite further governments."""
    return can_edit_group(user, group)


def require_view_group(user: AnyUser, group: Group) -> None:
    if not can_view_group(user, group):
        raise PermissionDenied(f"{group.name}の構成団体（参加を承諾した団体）ではないため、この群を見る権限がありません。")


def require_edit_group(user: AnyUser, group: Group) -> None:
    if not can_edit_group(user, group):
        raise PermissionDenied(f"{group.name}を編集できるのは、参加を承諾した構成団体の編集者だけです。")


def pending_invitations(user: AnyUser) -> QuerySet[GroupMember]:
    """Invitations the user's governments have not answered yet (the user may answer if an editor)."""
    if not user.is_authenticated:
        return GroupMember.objects.none()
    return (GroupMember.objects.filter(status=MemberStatus.INVITED, municipality_id__in=own_municipality_ids(user))
            .select_related("group", "municipality", "invited_by"))


def can_edit_member(user: AnyUser, member: GroupMember) -> bool:
    """Each member edits only its own duties (and only once it has accepted)."""
    return member.is_accepted and can_edit_ledger(user, member.municipality)


def visible_groups(user: AnyUser) -> list[Group]:
    """The groups the user sees, with their members (for lists)."""
    return list(groups_of(user).prefetch_related("members__municipality"))


def viewable_group(user: AnyUser, pk: Any) -> Group:
    """The group of a URL, if the user may see it (404 when there is none, 403 when not allowed)."""
    group = get_object_or_404(Group, pk=pk)
    require_view_group(user, group)
    return group


# --------------------------------------------------------------------------- ledger-derived figures


def partner_municipality_ids(user: AnyUser) -> QuerySet[GroupMember, Mapping[str, Any]]:
    """pks of the governments that share an accepted group with one of the user's governments."""
    shared = GroupMember.objects.accepted().filter(municipality_id__in=own_municipality_ids(user)).values("group_id")
    return GroupMember.objects.accepted().filter(group_id__in=shared).values("municipality_id")


def ledger_figure_codes(user: AnyUser) -> frozenset[str] | None:
    """lg_codes whose ledger-derived figures (counts, overdue inspections, backlog, grades) the user may see;
    None means every one (administrators).

    Its own and (for a prefecture's staff) its municipalities', its accepted partners', and any
    municipality that chose to publish them."""
    if is_superuser(user):
        return None
    published = Q(publishes_ledger_figures=True)
    if not user.is_authenticated:
        return frozenset(Municipality.objects.filter(published).values_list("lg_code", flat=True))
    viewable = viewable_municipalities(user).values("pk")
    qs = Municipality.objects.filter(published | Q(pk__in=viewable) | Q(pk__in=partner_municipality_ids(user)))
    return frozenset(qs.values_list("lg_code", flat=True))


def can_view_ledger_figures(user: AnyUser, municipality: Municipality) -> bool:
    codes = ledger_figure_codes(user)
    return codes is None or municipality.lg_code in codes
