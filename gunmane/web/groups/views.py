"""群の作業場 (group workspace): overview, settings and roles, mechanism helper, cases, process, people,
documents, and the board of every group's progress.

Every view checks gunmane.web.groups.permissions: members (and the prefecture of their municipalities) see a
group; editors of a member edit its shared settings and checklist; each member edits only its own duties.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST
from django_tasks import task

from gunmane.io.documents.checker import DocumentCheckError
from gunmane.io.documents.figures import document_figures
from gunmane.io.shipped import vocab
from gunmane.io.shipped.cases import catalogue
from gunmane.io.shipped.parameters import share_rules
from gunmane.web.accounts.permissions import editable_municipalities, own_municipality_ids
from gunmane.web.common.downloads import DOCX, XLSX, attachment
from gunmane.web.common.requests import AuthenticatedHttpRequest
from gunmane.web.groups import permissions, workspace
from gunmane.web.groups.documents import (
    author_label,
    document_input,
    document_version,
    jsonable,
    page_effects,
    render_document,
)
from gunmane.web.groups.effects import stored_summary
from gunmane.web.groups.forms import (
    ChecklistItemForm,
    DocumentForm,
    DutiesForm,
    GroupCreateForm,
    MemberInviteForm,
    NewItemForm,
    PeopleMeasureForm,
    SettingsForm,
)
from gunmane.web.groups.models import (
    ChecklistEvent,
    ChecklistItem,
    CollaborationType,
    DocumentKind,
    GeneratedDocument,
    Group,
    GroupMember,
    MemberDuties,
    MemberRole,
    MemberStatus,
    PeopleMeasure,
    Stage,
)
from gunmane.web.groups.pages import workspace_context
from gunmane.web.groups.permissions import viewable_group
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job, JobStatus
from gunmane.web.registry.models import Municipality, MunicipalityKind

CONTENT_TYPES = {"docx": DOCX, "pdf": "application/pdf"}


# --------------------------------------------------------------------------- list, create, board


def group_list(request: HttpRequest) -> HttpResponse:
    groups = permissions.visible_groups(request.user)
    rows = [(g, workspace.current_stage(g), workspace.progress(g)) for g in groups]
    can_create = editable_municipalities(request.user).exclude(kind=MunicipalityKind.PREFECTURE).exists()
    invitations = [(m, permissions.can_answer_invitation(request.user, m))
                   for m in permissions.pending_invitations(request.user)]
    return render(request, "groups/group_list.html", {"rows": rows, "can_create": can_create,
                                                      "invitations": invitations})


def group_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The creator's own government joins at once (it consents by creating); every other one is invited."""
    editable = editable_municipalities(request.user)
    if not editable.exclude(kind=MunicipalityKind.PREFECTURE).exists():
        raise PermissionDenied("群をつくれるのは市区町村の編集者です。")
    form = GroupCreateForm(request.POST or None, editable=editable)
    if request.method == "GET" and request.GET:  # a suggestion from the guide's "start a group"
        for note in form.prefill(request.GET):
            messages.warning(request, f"{note}。外して開きました。")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        now = timezone.now()
        invited: list[str] = []
        with transaction.atomic():
            group = Group.objects.create(name=data["name"], description=data["description"],
                                         collaboration_types=list(data["collaboration_types"]))
            lead: Municipality = data["lead"]
            GroupMember.objects.create(group=group, municipality=lead, role=MemberRole.LEAD,
                                       status=MemberStatus.ACCEPTED, invited_by=request.user, invited_at=now,
                                       responded_by=request.user, responded_at=now)
            for m in data["members"]:
                if m.pk != lead.pk:
                    GroupMember.objects.create(group=group, municipality=m, role=MemberRole.MEMBER,
                                               invited_by=request.user, invited_at=now)
                    invited.append(m.name)
            if data["prefecture_supports"]:
                pref = Municipality.objects.filter(prefecture=lead.prefecture, kind=MunicipalityKind.PREFECTURE).first()
                if pref is not None:
                    GroupMember.objects.create(group=group, municipality=pref, role=MemberRole.PREFECTURE,
                                               invited_by=request.user, invited_at=now)
                    invited.append(pref.name)
                    if CollaborationType.VERTICAL.value not in group.collaboration_types:
                        group.collaboration_types.append(CollaborationType.VERTICAL.value)
                        group.save(update_fields=["collaboration_types"])
            workspace.settings_of(group)
        messages.success(request, f"群「{group.name}」をつくりました。次に対象分野と連携の仕組みを決めましょう。")
        if invited:
            messages.info(request, f"{'・'.join(invited)}を招待しました。各団体の編集者が承諾するまで、"
                                   "その団体の台帳は群の計算にも画面にも使われません。")
        return redirect("groups:settings", pk=group.pk)
    return render(request, "groups/group_create.html", {"form": form})


# --------------------------------------------------------------------------- membership by consent


def invitation(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """What an invited government sees before it decides: the group, who invited it, who is in it."""
    member = get_object_or_404(GroupMember.objects.select_related("group", "municipality", "invited_by"),
                               pk=member_pk, group_id=pk)
    if not (permissions.can_answer_invitation(request.user, member)
            or own_municipality_ids(request.user).filter(municipality_id=member.municipality_id).exists()):
        raise PermissionDenied("この招待は招待された団体の職員だけが見られます。")
    accepted = workspace.ordered_members(member.group)
    return render(request, "groups/invitation.html", {
        "member": member, "group": member.group, "accepted": accepted,
        "can_answer": permissions.can_answer_invitation(request.user, member)})


@require_POST
def invitation_answer(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Accept or decline, by an editor of the invited government only."""
    member = get_object_or_404(GroupMember.objects.select_related("group", "municipality"), pk=member_pk, group_id=pk)
    if not permissions.can_answer_invitation(request.user, member):
        raise PermissionDenied(f"{member.municipality.name}の参加を決められるのは{member.municipality.name}の編集者だけです。")
    answer = request.POST.get("answer")
    if member.status != MemberStatus.INVITED or answer not in ("accept", "decline"):
        messages.error(request, f"{member.municipality.name}への招待は回答できる状態ではありません"
                                f"（いまの状態：{member.get_status_display()}）。")
        return redirect("groups:list")
    member.status = MemberStatus.ACCEPTED if answer == "accept" else MemberStatus.DECLINED
    member.responded_by = request.user if request.user.is_authenticated else None
    member.responded_at = timezone.now()
    member.save(update_fields=["status", "responded_by", "responded_at"])
    if member.is_accepted:
        workspace.settings_of(member.group)  # its duties row
        messages.success(request, f"{member.municipality.name}は「{member.group.name}」に参加しました。")
        return redirect("groups:overview", pk=member.group.pk)
    messages.info(request, f"{member.municipality.name}は「{member.group.name}」への参加を辞退しました。")
    return redirect("groups:list")


@require_POST
def member_leave(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """A member leaves by its own editors' decision; from then on none of its data is used by the group."""
    member = get_object_or_404(GroupMember.objects.select_related("group", "municipality"), pk=member_pk, group_id=pk)
    if not permissions.can_answer_invitation(request.user, member):
        raise PermissionDenied(f"{member.municipality.name}の脱退を決められるのは{member.municipality.name}の編集者だけです。")
    if not member.is_accepted:
        messages.error(request, f"{member.municipality.name}は参加していません（{member.get_status_display()}）。")
        return redirect("groups:list")
    member.status = MemberStatus.LEFT
    member.responded_by = request.user if request.user.is_authenticated else None
    member.responded_at = timezone.now()
    member.save(update_fields=["status", "responded_by", "responded_at"])
    messages.info(request, f"{member.municipality.name}は「{member.group.name}」から脱退しました。"
                           "この団体の台帳は群の計算にも画面にも使われません。")
    return redirect("groups:list")


@require_POST
def member_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Editors of accepted members invite a government (again, after it declined or left)."""
    group = viewable_group(request.user, pk)
    if not permissions.can_invite(request.user, group):
        raise PermissionDenied(f"{group.name}に団体を招待できるのは、参加している構成団体の編集者だけです。")
    form = MemberInviteForm(request.POST, group=group)
    if not form.is_valid():
        messages.error(request, "招待できません：" + " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(reverse("groups:overview", args=[group.pk]) + "#members")
    muni: Municipality = form.cleaned_data["municipality"]
    GroupMember.objects.update_or_create(group=group, municipality=muni, defaults={
        "role": form.cleaned_data["role"], "status": MemberStatus.INVITED, "invited_by": request.user,
        "invited_at": timezone.now(), "responded_by": None, "responded_at": None})
    messages.success(request, f"{muni.name}を招待しました。{muni.name}の編集者が承諾すると構成団体になります。")
    return redirect(reverse("groups:overview", args=[group.pk]) + "#members")


@require_POST
def member_cancel(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Withdraw an invitation that has not been answered yet."""
    group = viewable_group(request.user, pk)
    permissions.require_edit_group(request.user, group)
    member = get_object_or_404(GroupMember, pk=member_pk, group=group, status=MemberStatus.INVITED)
    name = member.municipality.name
    member.delete()
    messages.info(request, f"{name}への招待を取り消しました。")
    return redirect(reverse("groups:overview", args=[group.pk]) + "#members")


def board(request: HttpRequest) -> HttpResponse:
    """Every visible group's progress by stage (for a prefecture coordinator)."""
    rows = [(g, workspace.progress(g), workspace.current_stage(g)) for g in permissions.visible_groups(request.user)]
    return render(request, "groups/board.html", {"rows": rows, "stages": Stage.choices})


# --------------------------------------------------------------------------- overview and settings


def overview(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    members = workspace.ordered_members(group)
    help_ = workspace.helpers(group)
    docs = group.documents.order_by("-created_at")[:5]
    surveys = _surveys(group)
    scenario = workspace.latest_scenario(group)
    # the summary comes from the evaluation job the 効果試算 page shows (computed by the worker, once per data
    # version): 「計算中」 with the job's progress until it is ready
    summary, effect_job = stored_summary(scenario, request.user) if scenario is not None else (None, None)
    others = list(group.members.exclude(status=MemberStatus.ACCEPTED).select_related("municipality", "invited_by"))
    can_invite = permissions.can_invite(request.user, group)
    return render(request, "groups/overview.html", workspace_context(
        request, group, "overview", members=members, progress=workspace.progress(group),
        other_members=others, invite_form=MemberInviteForm(group=group) if can_invite else None,
        leavable={m.pk for m in members if permissions.can_answer_invitation(request.user, m)},
        warnings=help_["warnings"], top_mechanism=help_["suggestions"][0] if help_["suggestions"] else None,
        top_case=help_["cases"][0] if help_["cases"] else None, documents=docs, surveys=surveys,
        scenario=scenario, effect=summary, effect_job=effect_job,
        editable_members={m.pk for m in members if permissions.can_edit_member(request.user, m)},
        sectors=dict((s.code, s.name) for s in vocab.sectors()), catalogue=catalogue()))


def _surveys(group: Group) -> list[Any]:
    """The group's latest surveys (listed on the overview; the surveys app builds on groups, hence the relation)."""
    return list(group.surveys.order_by("-id")[:5])


def settings_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    permissions.require_edit_group(request.user, group)
    s = workspace.settings_of(group)
    form = SettingsForm(request.POST or None, instance=s, initial={"collaboration_types": group.collaboration_types},
                        members=workspace.ordered_members(group))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            group.collaboration_types = list(form.cleaned_data["collaboration_types"])
            group.save(update_fields=["collaboration_types"])
        messages.success(request, "群の設定を保存しました。")
        return redirect("groups:overview", pk=group.pk)
    return render(request, "groups/settings.html", workspace_context(request, group, "settings", form=form,
                                                                     share_rules=share_rules()))


def duties_edit(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    member = get_object_or_404(GroupMember, pk=member_pk, group=group)
    if not permissions.can_edit_member(request.user, member):
        raise PermissionDenied(f"{member.municipality.name}の役割を編集できるのは{member.municipality.name}の編集者だけです。")
    duties, _ = MemberDuties.objects.get_or_create(member=member)
    form = DutiesForm(request.POST or None, instance=duties)
    if request.method == "POST" and form.is_valid():
        form.save()
        warnings = [w for w in workspace.helpers(group)["warnings"] if w.member == member.municipality.name]
        for w in warnings:
            messages.warning(request, w.message)
        messages.success(request, f"{member.municipality.name}の役割を保存しました。")
        return redirect("groups:overview", pk=group.pk)
    return render(request, "groups/duties.html", workspace_context(request, group, "overview", form=form, member=member))


# --------------------------------------------------------------------------- helpers: mechanism, cases, people


def mechanism(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    help_ = workspace.helpers(group)
    return render(request, "groups/mechanism.html", workspace_context(
        request, group, "mechanism", suggestions=help_["suggestions"], warnings=help_["warnings"],
        source=catalogue().sources["mechanisms"]))


def cases(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    cat = catalogue()
    return render(request, "groups/cases.html", workspace_context(
        request, group, "cases", matches=workspace.helpers(group)["cases"], all_cases=cat.cases,
        source=cat.sources["cases"]))


def people(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    form = PeopleMeasureForm(request.POST or None)
    if request.method == "POST":
        permissions.require_edit_group(request.user, group)
        if form.is_valid():
            measure = form.save(commit=False)
            measure.group = group
            measure.save()
            messages.success(request, "人の群マネの取り組みを記録しました。")
            return redirect("groups:people", pk=group.pk)
    cat = catalogue()
    bodies = {b["key"]: b for b in cat.support_bodies}
    return render(request, "groups/people.html", workspace_context(
        request, group, "people", form=form, bodies=cat.support_bodies, body_names={k: b["name"] for k, b in bodies.items()},
        measures=PeopleMeasure.objects.filter(group=group), source=cat.sources["support_bodies"]))


# --------------------------------------------------------------------------- process


def process(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    workspace.settings_of(group)
    cat = catalogue()
    items = list(group.checklist.select_related("owner"))
    stages = []
    for key, name in Stage.choices:
        info = cat.stage(key) or {}
        stages.append({"key": key, "name": name, "items": [i for i in items if i.stage == key],
                       "cautions": info.get("cautions", []), "qa": info.get("qa", [])})
    return render(request, "groups/process.html", workspace_context(
        request, group, "process", stages=stages, progress=workspace.progress(group), new_form=NewItemForm(),
        source=cat.sources["process"]))


def item_edit(request: AuthenticatedHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    item = get_object_or_404(ChecklistItem, pk=item_pk, group=group)
    if request.method == "POST":
        permissions.require_edit_group(request.user, group)
    form = ChecklistItemForm(request.POST or None, instance=item, group=group)
    if request.method == "POST" and form.is_valid():
        before = {f: _show(getattr(ChecklistItem.objects.get(pk=item.pk), f)) for f in form.changed_data}
        with transaction.atomic():
            saved = form.save()
            if form.changed_data:
                ChecklistEvent.objects.create(item=saved, user=request.user, changes={
                    f: {"label": str(form.fields[f].label), "from": before[f], "to": _show(getattr(saved, f))}
                    for f in form.changed_data})
        messages.success(request, f"「{item.title}」を更新しました。")
        return redirect(reverse("groups:process", args=[group.pk]) + f"#item-{item.pk}")
    return render(request, "groups/item.html", workspace_context(request, group, "process", item=item, form=form,
                                                    events=item.events.select_related("user")))


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if hasattr(value, "name"):
        return str(value.name)
    labels = dict(ChecklistItem._meta.get_field("status").choices or [])
    return str(labels.get(value, value))


@require_POST
def item_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    permissions.require_edit_group(request.user, group)
    form = NewItemForm(request.POST)
    if form.is_valid():
        stage = form.cleaned_data["stage"]
        last = group.checklist.filter(stage=stage).aggregate(m=Max("order"))["m"] or 0
        item = ChecklistItem.objects.create(group=group, stage=stage, order=last + 1, title=form.cleaned_data["title"])
        ChecklistEvent.objects.create(item=item, user=request.user, changes={"title": {"label": "確認項目", "from": "—",
                                                                                        "to": item.title}})
        messages.success(request, f"確認項目「{item.title}」を追加しました。")
    else:
        messages.error(request, "確認項目を追加できません：" + " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("groups:process", pk=group.pk)


# --------------------------------------------------------------------------- documents


def documents(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    effects, effect_job = page_effects(group, request.user)  # the evaluation job's, not computed here
    inp = document_input(group, effects=effects)
    lots = [(lot.lot_id, f"{lot.lot_id}：{lot.name}（{len(lot.facilities)} 施設）") for lot in inp.lots]
    form = DocumentForm(request.POST or None, lots=lots)
    if request.method == "POST":
        permissions.require_edit_group(request.user, group)
        if form.is_valid():
            kind, fmt, lot = form.cleaned_data["kind"], form.cleaned_data["file_format"], form.cleaned_data.get("lot") or ""
            # made by the worker (Word/PDF of a large group takes seconds); each request is its own work — the
            # group's settings, duties and scenario are part of the document, and generate() keeps one file per content
            job = jobs.start(make_document, kind="group_document", subject=f"{group.pk}|{kind}|{fmt}|{lot}",
                             version=uuid.uuid4().hex, label=f"{dict(DocumentKind.choices)[kind]}（{FORMAT_JA[fmt]}）",
                             params={"group": group.pk, "kind": kind, "file_format": fmt, "lot": lot,
                                     "author": author_label(request.user, group)}, user=request.user)
            if job.status == JobStatus.DONE:  # made already (the tests run the queue in the request)
                doc = GeneratedDocument.objects.filter(group=group, kind=kind, lot=lot, file_format=fmt).first()
                if doc is not None:
                    messages.success(request, f"{doc.get_kind_display()}（第{doc.version}版、{doc.file_format}）をつくりました。")
                return redirect("groups:documents", pk=group.pk)
            if job.status == JobStatus.FAILED:
                messages.error(request, job.message)
                return redirect("groups:documents", pk=group.pk)
            return redirect(reverse("groups:documents", args=[group.pk]) + f"?job={job.pk}")
    docs = list(group.documents.select_related("created_by"))
    authors = {d.pk: str(d.inputs.get("author_ja") or "") for d in docs}
    return render(request, "groups/documents.html", workspace_context(
        request, group, "documents", form=form, docs=docs, authors=authors, inp=inp, lots=inp.lots,
        figures=document_figures(inp), job=_document_job(group, request.GET.get("job", "")), effect_job=effect_job))


FORMAT_JA = {"docx": "Word", "pdf": "PDF"}


def _document_job(group: Group, job_id: str) -> Job | None:
    """The document this page asked the worker for, while it is being made (or why it could not be)."""
    try:
        job = Job.objects.filter(pk=uuid.UUID(job_id), kind="group_document", subject__startswith=f"{group.pk}|").first()
    except ValueError:
        return None
    return job if job is not None and job.status != JobStatus.DONE else None


@task()
def make_document(job_id: str) -> None:
    """A group document as Word or PDF, kept as a GeneratedDocument (the worker: gunmane worker)."""
    jobs.run(job_id, _make_document)


def _make_document(job: Job, progress: jobs.Progress) -> None:
    p = job.params
    group = Group.objects.get(pk=p["group"])
    progress(10, "群のデータと効果試算を読み、文書をつくっています。")
    try:
        generate(group, p["kind"], p["file_format"], p["lot"], user=job.user, author=p["author"])
    except DocumentCheckError as exc:
        raise jobs.Refused(str(exc)) from exc


def generate(group: Group, kind: str, file_format: str, lot: str = "", *, user: Any = None,
             author: str | None = None) -> GeneratedDocument:
    """Build a document from the group's data now and keep it, with its inputs, under its version: the same
    content in another format takes the same version; the same content in the same format is the file kept
    before. DocumentCheckError (Japanese, naming each contradiction) when the document contradicts itself."""
    who = author if author is not None else author_label(user, group)
    with transaction.atomic():
        list(GeneratedDocument.objects.select_for_update().filter(group=group, kind=kind).values_list("pk", flat=True))
        inp = document_input(group, author=who)
        version, latest = document_version(group, kind, lot, jsonable(asdict(inp)))
        if latest is not None and latest.version == version:
            same = GeneratedDocument.objects.filter(group=group, kind=kind, lot=lot, version=version,
                                                    file_format=file_format).first()
            if same is not None:
                return same
        inp = replace(inp, version=version)
        content = render_document(kind, file_format, inp, lot)
        names = dict(DocumentKind.choices)
        suffix = f"_{lot}" if lot else ""
        doc = GeneratedDocument(group=group, kind=kind, version=version, file_format=file_format, lot=lot,
                                inputs=jsonable(asdict(inp)), created_by=user if getattr(user, "pk", None) else None)
        doc.file.save(f"{group.name}_{names[kind]}{suffix}_第{version}版.{file_format}", ContentFile(content), save=False)
        doc.save()
    return doc


def lot_annex(request: HttpRequest, pk: int, lot: str) -> HttpResponse:
    """The facility list of a lot as the 仕様書's Excel annex (built now from the group's data)."""
    # python-docx and the PDF writers (imported by the spec module) load when an annex is asked for
    from gunmane.io.documents.spec import spec_annex_xlsx

    group = viewable_group(request.user, pk)
    effects, running = page_effects(group, request.user)
    try:  # while the evaluation runs, evaluated here: the annex's lots follow the scenario's period
        content = spec_annex_xlsx(document_input(group, effects=None if running else effects), lot)
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    return attachment(content, f"{group.name}_仕様書別紙_施設一覧_{lot}.xlsx", XLSX)


def document_download(request: HttpRequest, pk: int, doc_pk: int) -> FileResponse:
    group = viewable_group(request.user, pk)
    doc = get_object_or_404(GeneratedDocument, pk=doc_pk, group=group)
    suffix = f"_{doc.lot}" if doc.lot else ""
    name = f"{group.name}_{doc.get_kind_display()}{suffix}_第{doc.version}版.{doc.file_format}"
    response = FileResponse(doc.file.open("rb"), content_type=CONTENT_TYPES[doc.file_format])
    if disposition := content_disposition_header(True, name):  # always, for an attachment
        response["Content-Disposition"] = disposition
    return response
