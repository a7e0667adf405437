"""Who may see and edit what — the single place every view, API and CLI path asks.

The rule (DESIGN.md "Who may see what"; the same table is in docs/permissions.md):

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
- Anonymous visitors are sent to the login page (LoginRequiredMiddleware); only the survey answer links
  (a secret token per respondent) and the login page are open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from gunmane.web.accounts.models import ROLE_RANK, Membership, Role
from gunmane.web.registry.models import Municipality, MunicipalityKind

if TYPE_CHECKING:
    from gunmane.web.groups.models import Group, GroupMember

AnyUser = AbstractBaseUser | AnonymousUser
EDITING_ROLES = (Role.EDITOR, Role.ADMIN)


def _is_superuser(user: AnyUser) -> bool:
    return bool(getattr(user, "is_superuser", False)) and user.is_authenticated


def _memberships(user: AnyUser) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user.pk).select_related("municipality")


def own_municipality_ids(user: AnyUser, *, editing: bool = False) -> QuerySet[Membership]:
    """The pks of the governments the user works for (as values() for subqueries)."""
    qs = Membership.objects.filter(user_id=user.pk)
    if editing:
        qs = qs.filter(role__in=EDITING_ROLES)
    return qs.values("municipality_id")


# --------------------------------------------------------------------------- the ledger itself


def viewable_municipalities(user: AnyUser) -> QuerySet[Municipality]:
    """Local governments whose ledger (facility by facility) the user may read: its own, and a
    prefecture's staff the municipalities of the prefecture (vertical collaboration)."""
    if not user.is_authenticated:
        return Municipality.objects.none()
    if _is_superuser(user):
        return Municipality.objects.all()
    own = own_municipality_ids(user)
    pref_ids = Membership.objects.filter(
        user_id=user.pk, municipality__kind=MunicipalityKind.PREFECTURE
    ).values("municipality__prefecture_id")
    return Municipality.objects.filter(Q(pk__in=own) | Q(prefecture_id__in=pref_ids))


def editable_municipalities(user: AnyUser) -> QuerySet[Municipality]:
    """Local governments whose ledger the user may change (editors and admins of that very government)."""
    if not user.is_authenticated:
        return Municipality.objects.none()
    if _is_superuser(user):
        return Municipality.objects.all()
    return Municipality.objects.filter(pk__in=own_municipality_ids(user, editing=True))


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


# --------------------------------------------------------------------------- groups (by consent)


def _group_models() -> tuple[type[Group], type[GroupMember]]:
    # The groups app builds on accounts; importing its models lazily keeps accounts importable without it.
    from gunmane.web.groups.models import Group, GroupMember

    return Group, GroupMember


def groups_of(user: AnyUser) -> QuerySet[Group]:
    """Groups in which a government the user works for is an accepted member (superusers: all)."""
    Group, GroupMember = _group_models()
    if not user.is_authenticated:
        return Group.objects.none()
    if _is_superuser(user):
        return Group.objects.all()
    ids = GroupMember.objects.accepted().filter(municipality_id__in=own_municipality_ids(user)).values("group_id")
    return Group.objects.filter(pk__in=ids)


def can_view_group(user: AnyUser, group: Group) -> bool:
    """Staff of an accepted member (any role, the prefecture included only when it accepted)."""
    return groups_of(user).filter(pk=group.pk).exists()


def can_edit_group(user: AnyUser, group: Group) -> bool:
    """Editors of an accepted, non-observer member change the group's shared settings, checklist, scenarios."""
    from gunmane.web.groups.models import MemberRole

    if _is_superuser(user):
        return True
    if not user.is_authenticated:
        return False
    return group.accepted_members().exclude(role=MemberRole.OBSERVER).filter(
        municipality_id__in=own_municipality_ids(user, editing=True)).exists()


def can_answer_invitation(user: AnyUser, member: GroupMember) -> bool:
    """Only an editor of the invited government itself accepts or declines (or, later, leaves)."""
    if not user.is_authenticated:
        return False
    return _is_superuser(user) or Membership.objects.filter(
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
    _, GroupMember = _group_models()
    if not user.is_authenticated:
        return GroupMember.objects.none()
    from gunmane.web.groups.models import MemberStatus

    return (GroupMember.objects.filter(status=MemberStatus.INVITED, municipality_id__in=own_municipality_ids(user))
            .select_related("group", "municipality", "invited_by"))


# --------------------------------------------------------------------------- ledger-derived figures


def partner_municipality_ids(user: AnyUser) -> QuerySet[GroupMember]:
    """pks of the governments that share an accepted group with one of the user's governments."""
    _, GroupMember = _group_models()
    shared = GroupMember.objects.accepted().filter(municipality_id__in=own_municipality_ids(user)).values("group_id")
    return GroupMember.objects.accepted().filter(group_id__in=shared).values("municipality_id")


def ledger_figure_codes(user: AnyUser) -> frozenset[str] | None:
    """lg_codes whose ledger-derived figures (counts, overdue inspections, backlog, grades) the user may see;
    None means every one (administrators).

    Its own and (for a prefecture's staff) its municipalities', its accepted partners', and any
    municipality that chose to publish them."""
    if _is_superuser(user):
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


# --------------------------------------------------------------------------- every URL's rule
#
# Each URL name maps to the rule that governs it; tests/web/test_authorization.py enumerates the resolver
# and fails on a URL without a rule here, then checks every role against the rule. The view itself asks
# the functions above; this table says which of them it must ask.


class Access:
    """What a URL's objects need (the object is the municipality, group, import or survey in its path)."""

    OPEN = "open"                    # no login: the sign-in page, a survey's answer link (its token)
    SIGNED_IN = "signed_in"          # public statistics, catalogues, guides, one's own lists
    MUNICIPALITY_EDITOR = "municipality_editor"  # an editor of some municipality (creates a group)
    LEDGER_VIEW = "ledger_view"      # the ledger of the municipality in the path (or of the import)
    LEDGER_EDIT = "ledger_edit"
    LIFECYCLE = "lifecycle"          # a scope: municipality → ledger view; group → group view; nation → admin
    GROUP_VIEW = "group_view"        # the group (or the survey's group) in the path
    GROUP_EDIT = "group_edit"
    MEMBER_SELF = "member_self"      # the member municipality's own editors (duties, accept, decline, leave)
    INVITATION = "invitation"        # staff of the invited municipality
    ADMIN = "admin"                  # Django's admin site: staff only


Rule = dict[str, str]  # HTTP method → Access; a method not listed is refused (405)


def page(access: str) -> Rule:
    """A page or a download: GET only."""
    return {"GET": access}


def form(view: str, edit: str | None = None) -> Rule:
    """A page with a form: GET to see it, POST (with CSRF) to change something."""
    return {"GET": view, "POST": edit or view}


def action(access: str) -> Rule:
    """A button that changes something: POST only."""
    return {"POST": access}


URL_RULES: dict[str, Rule] = {
    "home": page(Access.SIGNED_IN),
    "login": form(Access.OPEN),
    "logout": action(Access.OPEN),
    # registry: the ledger
    "registry:municipality_list": page(Access.SIGNED_IN),
    "registry:municipality_detail": page(Access.SIGNED_IN),
    "registry:civil_engineers": action(Access.LEDGER_EDIT),
    "registry:facility_list": page(Access.LEDGER_VIEW),
    "registry:facility_detail": page(Access.LEDGER_VIEW),
    "registry:facility_delete": form(Access.LEDGER_EDIT),
    "registry:deleted_facilities": page(Access.LEDGER_VIEW),
    "registry:facility_restore": action(Access.LEDGER_EDIT),
    "registry:import_undo": form(Access.LEDGER_EDIT),
    "registry:import_rerun": action(Access.LEDGER_EDIT),
    "registry:import_create": form(Access.LEDGER_EDIT),
    "registry:export": page(Access.LEDGER_VIEW),
    "registry:import_list": page(Access.SIGNED_IN),
    "registry:import_detail": page(Access.LEDGER_VIEW),
    "registry:import_progress": page(Access.LEDGER_VIEW),
    "registry:import_issues_xlsx": page(Access.LEDGER_VIEW),
    "registry:import_file": page(Access.LEDGER_VIEW),
    "registry:template": page(Access.SIGNED_IN),
    "registry:national_report": page(Access.LEDGER_VIEW),
    "registry:national_guide": page(Access.SIGNED_IN),
    # analysis: カルテ (public statistics for all; ledger figures by ledger_figure_codes) and lifecycle
    "analysis:national": page(Access.SIGNED_IN),
    "analysis:map_data": page(Access.SIGNED_IN),
    "analysis:series_csv": page(Access.SIGNED_IN),
    "analysis:prefecture": page(Access.SIGNED_IN),
    "analysis:group": page(Access.GROUP_VIEW),
    "analysis:groups": page(Access.SIGNED_IN),
    "analysis:municipality": page(Access.SIGNED_IN),
    "analysis:publish": action(Access.LEDGER_EDIT),
    "analysis:deterioration_pairs": form(Access.SIGNED_IN),
    "analysis:deterioration": page(Access.LIFECYCLE),
    "analysis:lcc": page(Access.LIFECYCLE),
    "analysis:plan": page(Access.LIFECYCLE),
    # groups
    "groups:list": page(Access.SIGNED_IN),
    "groups:create": form(Access.MUNICIPALITY_EDITOR),
    "groups:board": page(Access.SIGNED_IN),
    "groups:overview": page(Access.GROUP_VIEW),
    "groups:settings": form(Access.GROUP_EDIT),
    "groups:duties": form(Access.MEMBER_SELF),
    "groups:member_invite": action(Access.GROUP_EDIT),
    "groups:invitation": page(Access.INVITATION),
    "groups:invitation_answer": action(Access.MEMBER_SELF),
    "groups:member_leave": action(Access.MEMBER_SELF),
    "groups:member_cancel": action(Access.GROUP_EDIT),
    "groups:mechanism": page(Access.GROUP_VIEW),
    "groups:cases": page(Access.GROUP_VIEW),
    "groups:process": page(Access.GROUP_VIEW),
    "groups:item_add": action(Access.GROUP_EDIT),
    "groups:item": form(Access.GROUP_VIEW, Access.GROUP_EDIT),
    "groups:people": form(Access.GROUP_VIEW, Access.GROUP_EDIT),
    "groups:documents": form(Access.GROUP_VIEW, Access.GROUP_EDIT),
    "groups:document": page(Access.GROUP_VIEW),
    "groups:lot_annex": page(Access.GROUP_VIEW),
    "groups:effects": page(Access.GROUP_VIEW),
    "groups:effects_new": action(Access.GROUP_EDIT),
    "groups:effects_result": page(Access.GROUP_VIEW),
    "groups:effects_edit": form(Access.GROUP_EDIT),
    "groups:effects_lots": page(Access.GROUP_VIEW),
    # surveys (the survey's group decides; respondents answer by their token)
    "surveys:index": page(Access.SIGNED_IN),
    "surveys:group": page(Access.GROUP_VIEW),
    "surveys:create": form(Access.GROUP_EDIT),
    "surveys:detail": page(Access.GROUP_VIEW),
    "surveys:settings": form(Access.GROUP_EDIT),
    "surveys:status": action(Access.GROUP_EDIT),
    "surveys:delete": action(Access.GROUP_EDIT),
    "surveys:preview": page(Access.GROUP_VIEW),
    "surveys:pdf": page(Access.GROUP_VIEW),
    "surveys:question_create": form(Access.GROUP_EDIT),
    "surveys:question_edit": form(Access.GROUP_EDIT),
    "surveys:question_delete": action(Access.GROUP_EDIT),
    "surveys:question_move": action(Access.GROUP_EDIT),
    "surveys:recipients": form(Access.GROUP_EDIT),
    "surveys:recipients_expiry": action(Access.GROUP_EDIT),
    "surveys:recipient_delete": action(Access.GROUP_EDIT),
    "surveys:links": page(Access.GROUP_EDIT),
    "surveys:results": page(Access.GROUP_VIEW),
    "surveys:results_export": page(Access.GROUP_VIEW),
    "surveys:respond": form(Access.OPEN),
    "admin:login": form(Access.OPEN),
}
#: every URL of Django's admin site (namespace "admin") is for staff only
NAMESPACE_RULES: dict[str, Rule] = {"admin": form(Access.ADMIN)}


def url_rule(name: str) -> Rule | None:
    """The rule of a URL name ("namespace:name"), or None if nobody decided it (a test fails on that)."""
    if name in URL_RULES:
        return URL_RULES[name]
    namespace = name.split(":", 1)[0] if ":" in name else ""
    return NAMESPACE_RULES.get(namespace)
