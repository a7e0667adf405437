"""Views of the surveys app (アンケート調査作成).

Staff views need login (LoginRequiredMiddleware) and ask gunmane.web.surveys.services whether the
user may see or edit the survey's group.  The respondent view (`respond`) is the only one without
login: its token opens exactly one recipient's form and answers — nothing else of the survey, the
group or the ledger.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from gunmane.engine.surveys import DEFAULT_SCALE
from gunmane.io.reports import survey_export, survey_pdf
from gunmane.io.shipped import surveys as survey_templates
from gunmane.web.common.downloads import XLSX, attachment
from gunmane.web.groups.models import Group
from gunmane.web.surveys import services
from gunmane.web.surveys.forms import (
    ExpiryForm,
    QuestionForm,
    RecipientsForm,
    ResponseForm,
    SurveyCreateForm,
    SurveySettingsForm,
    field_name,
)
from gunmane.web.surveys.models import (
    Question,
    QuestionKind,
    Recipient,
    Response,
    ResponseStatus,
    Survey,
    SurveyStatus,
)


def _survey(request: HttpRequest, pk: int, *, edit: bool = False) -> Survey:
    survey = get_object_or_404(Survey.objects.select_related("group"), pk=pk)
    (services.require_edit if edit else services.require_view)(request.user, survey.group)
    return survey


def _context(request: HttpRequest, survey: Survey, active: str, **extra: Any) -> dict[str, Any]:
    return {"survey": survey, "group": survey.group, "active": active,
            "can_edit": services.can_edit_group(request.user, survey.group), **extra}


def _safe_filename(text: str) -> str:
    return "".join("_" if c in '\\/:*?"<>|' else c for c in text)[:80]


# ------------------------------------------------------------------------------ lists


def index(request: HttpRequest) -> HttpResponse:
    groups = services.visible_groups(request.user)  # members prefetched
    surveys = (Survey.objects.filter(group__in=groups).select_related("group")
               .annotate(n_recipients=Count("recipients", distinct=True),
                         n_submitted=Count("recipients__response", distinct=True,
                                           filter=Q(recipients__response__status=ResponseStatus.SUBMITTED))))
    editable = {g.pk for g in groups if services.can_edit_group(request.user, g)}
    return render(request, "surveys/index.html", {"groups": groups, "surveys": surveys, "editable": editable,
                                                   "templates": survey_templates.templates().values()})


def group_surveys(request: HttpRequest, group_pk: int) -> HttpResponse:
    group = get_object_or_404(Group, pk=group_pk)
    services.require_view(request.user, group)
    surveys = (group.surveys.annotate(
        n_recipients=Count("recipients", distinct=True),
        n_submitted=Count("recipients__response", distinct=True,
                          filter=Q(recipients__response__status=ResponseStatus.SUBMITTED))))
    return render(request, "surveys/group.html", {
        "group": group, "surveys": surveys, "can_edit": services.can_edit_group(request.user, group),
        "templates": survey_templates.templates().values()})


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest, group_pk: int) -> HttpResponse:
    group = get_object_or_404(Group, pk=group_pk)
    services.require_edit(request.user, group)
    sectors = services.group_sector_codes(group)
    default_sectors, default_works = services.group_defaults(group)
    initial = {"template": request.GET.get("template") or "contractor", "sectors": default_sectors or ["road"],
               "work_kinds": default_works,
               "closes_on": timezone.localdate() + timedelta(days=30)}
    form = SurveyCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        survey = services.create_from_template(group, template_key=d["template"], sectors=d["sectors"],
                                               works=d["work_kinds"], closes_on=d["closes_on"], title=d["title"],
                                               user=request.user)
        messages.success(request, f"「{survey.title}」を作成しました（設問 {survey.questions.count()} 問）。"
                                  "設問を確認・編集してから、回答者を登録して公開してください。")
        return redirect("surveys:detail", pk=survey.pk)
    return render(request, "surveys/create.html", {
        "group": group, "form": form, "ledger_sectors": sectors, "templates": survey_templates.templates().values()})


# ------------------------------------------------------------------------------ one survey


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    questions = services.questions_of(survey)
    number = services.numbering(questions)
    counts = survey.recipients.aggregate(
        total=Count("pk"), submitted=Count("pk", filter=Q(response__status=ResponseStatus.SUBMITTED)),
        drafts=Count("pk", filter=Q(response__status=ResponseStatus.DRAFT)))
    items = [(q, number[q.pk], q.condition_text(number)) for q in questions]
    return render(request, "surveys/detail.html", _context(
        request, survey, "detail", items=items, counts=counts, kinds=QuestionKind.choices,
        template=survey_templates.templates().get(survey.template_key)))


@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    form = SurveySettingsForm(request.POST or None, instance=survey)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "調査の設定を保存しました。")
        return redirect("surveys:detail", pk=survey.pk)
    return render(request, "surveys/settings.html", _context(request, survey, "settings", form=form))


@require_POST
def status(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    action = request.POST.get("action")
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if action == "open" and survey.status != SurveyStatus.OPEN:
            if not survey.questions.exists():
                messages.error(request, "設問が1つもないため公開できません。")
                return redirect("surveys:detail", pk=survey.pk)
            survey.status, survey.opened_at = SurveyStatus.OPEN, survey.opened_at or timezone.now()
            survey.closed_at = None
            survey.save(update_fields=["status", "opened_at", "closed_at", "updated_at"])
            messages.success(request, "回答の受付を始めました。回答者ごとのリンクを送ってください。"
                                      "公開後は設問を変更できません。")
        elif action == "close" and survey.status == SurveyStatus.OPEN:
            survey.status, survey.closed_at = SurveyStatus.CLOSED, timezone.now()
            survey.save(update_fields=["status", "closed_at", "updated_at"])
            messages.success(request, "回答の受付を締め切りました。リンクを開いた回答者には締切の案内が表示されます。")
        else:
            messages.error(request, "この操作はいまの状態ではできません。")
    return redirect("surveys:detail", pk=survey.pk)


@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    if Response.objects.filter(recipient__survey=survey).exists():
        messages.error(request, "回答がある調査は削除できません。締め切って保存してください。")
        return redirect("surveys:detail", pk=survey.pk)
    group_pk, title = survey.group_id, survey.title
    survey.delete()
    messages.success(request, f"「{title}」を削除しました。")
    return redirect("surveys:group", group_pk=group_pk)


# ------------------------------------------------------------------------------ questions


def _locked(request: HttpRequest, survey: Survey) -> HttpResponse | None:
    """Questions change only while the survey is 準備中: answers collected must stay comparable."""
    if survey.is_editable:
        return None
    messages.error(request, "公開した調査の設問は変更できません（回答を比べられるようにするため）。")
    return redirect("surveys:detail", pk=survey.pk)


@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, pk: int, qpk: int | None = None) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    if locked := _locked(request, survey):
        return locked
    kind = request.GET.get("kind", "single")
    question = get_object_or_404(Question, pk=qpk, survey=survey) if qpk else Question(
        survey=survey, kind=kind if kind in QuestionKind.values else "single",
        required=True)
    form = QuestionForm(request.POST or None, instance=question, survey=survey)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            q = form.save(commit=False)
            if not q.pk:
                q.key = services.next_question_key(survey)
                last = survey.questions.order_by("-order").values_list("order", flat=True).first() or 0
                q.order = last + 10
            q.save()
        messages.success(request, f"設問「{q.text[:30]}」を保存しました。")
        return redirect(reverse("surveys:detail", args=[survey.pk]) + f"#q-{q.key}")
    return render(request, "surveys/question_form.html", _context(
        request, survey, "detail", form=form, question=question))


@require_POST
def question_delete(request: HttpRequest, pk: int, qpk: int) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    if locked := _locked(request, survey):
        return locked
    q = get_object_or_404(Question, pk=qpk, survey=survey)
    deps = list(q.dependents.all())
    if deps:
        messages.error(request, f"この設問は「{deps[0].text[:30]}」の表示条件に使われているため削除できません。"
                                "先にその設問の表示条件を外してください。")
    else:
        q.delete()
        services.renumber(survey)
        messages.success(request, f"設問「{q.text[:30]}」を削除しました。")
    return redirect("surveys:detail", pk=survey.pk)


@require_POST
def question_move(request: HttpRequest, pk: int, qpk: int) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    if locked := _locked(request, survey):
        return locked
    q = get_object_or_404(Question, pk=qpk, survey=survey)
    ordered = list(survey.questions.order_by("order", "pk"))
    i = ordered.index(q)
    j = i - 1 if request.POST.get("direction") == "up" else i + 1
    if 0 <= j < len(ordered):
        other = ordered[j]
        # A condition must refer to an earlier question: refuse a move that would break that.
        first, second = (other, q) if j < i else (q, other)
        if second.show_if_question_id == first.pk:
            messages.error(request, f"「{second.text[:30]}」は「{first.text[:30]}」の回答で表示が決まるため、"
                                    "その前には移動できません。")
        else:
            with transaction.atomic():
                ordered[i], ordered[j] = ordered[j], ordered[i]
                for n, item in enumerate(ordered, start=1):
                    Question.objects.filter(pk=item.pk).update(order=n * 10)
    return redirect(reverse("surveys:detail", args=[survey.pk]) + f"#q-{q.key}")


def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The respondent's form as they will see it (nothing is saved)."""
    survey = _survey(request, pk)
    questions = services.questions_of(survey)
    form = ResponseForm(questions=questions)
    return render(request, "surveys/respond.html", {
        "survey": survey, "items": _items(form, questions), "preview": True, "state": "open"})


def questionnaire_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    data = survey_pdf.questionnaire_pdf(services.survey_spec(survey))
    return attachment(data, f"{_safe_filename(survey.title)}_調査票.pdf", "application/pdf",
                      download=request.GET.get("download") == "1")


# ------------------------------------------------------------------------------ recipients


@require_http_methods(["GET", "POST"])
def recipients(request: HttpRequest, pk: int) -> HttpResponse:
    # the list holds every respondent's answer link (a secret that lets one answer): editors only
    survey = _survey(request, pk, edit=True)
    can_edit = services.can_edit_group(request.user, survey.group)
    form = None
    if can_edit and survey.status != SurveyStatus.CLOSED:
        form = RecipientsForm(request.POST or None, request.FILES or None, survey=survey)
    if request.method == "POST":
        services.require_edit(request.user, survey.group)
        if form is None:
            messages.error(request, "締め切った調査には回答者を追加できません。")
            return redirect("surveys:recipients", pk=survey.pk)
        if form.is_valid():
            created = services.add_recipients(survey, form.cleaned_data["rows"], form.cleaned_data["expires_on"])
            messages.success(request, f"回答者を{len(created)}人登録しました。リンク一覧をダウンロードして送ってください。")
            return redirect("surveys:recipients", pk=survey.pk)
    items = survey.recipients.select_related("response").order_by("pk")
    base = request.build_absolute_uri(reverse("surveys:respond", args=["TOKEN"])).replace("TOKEN/", "")
    return render(request, "surveys/recipients.html", _context(
        request, survey, "recipients", form=form, items=items, base_url=base, expiry_form=ExpiryForm(),
        today=timezone.localdate()))


@require_POST
def recipients_expiry(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    form = ExpiryForm(request.POST)
    if form.is_valid():
        n = survey.recipients.update(expires_on=form.cleaned_data["expires_on"])
        d = form.cleaned_data["expires_on"]
        messages.success(request, f"{n}人のリンクの有効期限を{d.year}年{d.month}月{d.day}日にしました。")
    else:
        for errors in form.errors.values():
            messages.error(request, "有効期限：" + " ".join(str(e) for e in errors))
    return redirect("surveys:recipients", pk=survey.pk)


@require_POST
def recipient_delete(request: HttpRequest, pk: int, rpk: int) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    recipient = get_object_or_404(Recipient, pk=rpk, survey=survey)
    if Response.objects.filter(recipient=recipient).exists():
        messages.error(request, f"「{recipient.name}」は回答を始めているため削除できません。")
    else:
        recipient.delete()
        messages.success(request, f"「{recipient.name}」のリンクを削除しました（そのリンクは使えなくなります）。")
    return redirect("surveys:recipients", pk=survey.pk)


def links(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    survey = _survey(request, pk, edit=True)
    base = request.build_absolute_uri(reverse("surveys:respond", args=["TOKEN"])).replace("TOKEN/", "")
    spec, rows = services.survey_spec(survey, []), services.link_rows(survey, base)
    name = f"{_safe_filename(survey.title)}_回答用リンク.{fmt}"
    if fmt == "csv":
        return attachment(survey_export.links_csv(spec, rows), name, "text/csv; charset=utf-8")
    if fmt == "xlsx":
        return attachment(survey_export.links_xlsx(spec, rows), name, XLSX)
    raise Http404("この形式では書き出せません（csv または xlsx）。")


# ------------------------------------------------------------------------------ results


def results(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    questions = services.questions_of(survey)
    responses = services.submitted(survey)
    res = services.aggregate(survey, questions, responses)
    tab_questions = [r for r in res if r.question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE,
                                                           QuestionKind.SCALE)]
    by = request.GET.get("by") or ("a0" if survey.attribute_labels else "name")
    qkey = request.GET.get("q") or (tab_questions[0].question.key if tab_questions else "")
    tab_q = next((r.question for r in tab_questions if r.question.key == qkey), None)
    tab = services.crosstab(survey, tab_q, by, responses, questions) if tab_q else None
    charts = [r.chart for r in res if r.chart]
    drafts = Response.objects.filter(recipient__survey=survey, status=ResponseStatus.DRAFT).count()
    return render(request, "surveys/results.html", _context(
        request, survey, "results", results=res, n_submitted=len(responses), n_drafts=drafts,
        n_recipients=survey.recipients.count(), tab=tab, tab_questions=tab_questions, by=by, qkey=qkey,
        by_choices=services.crosstab_choices(survey), charts=charts))


def results_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    survey = _survey(request, pk)
    questions = services.questions_of(survey)
    spec = services.survey_spec(survey, questions)
    rows = services.respondent_rows(survey, submitted_only=request.GET.get("all") != "1")
    name = f"{_safe_filename(survey.title)}_回答.{fmt}"
    if fmt == "csv":
        return attachment(survey_export.responses_csv(spec, rows), name, "text/csv; charset=utf-8")
    if fmt == "xlsx":
        counts = services.count_rows(services.aggregate(survey, questions))
        return attachment(survey_export.responses_xlsx(spec, rows, counts), name, XLSX)
    raise Http404("この形式では書き出せません（csv または xlsx）。")


# ------------------------------------------------------------------------------ respondent


def _items(form: ResponseForm, questions: list[Question]) -> list[dict[str, Any]]:
    """Per question what respond.html draws: number, bound field(s), condition in words, data for the script."""
    number = services.numbering(questions)
    items = []
    for q in questions:
        item: dict[str, Any] = {"q": q, "number": number[q.pk], "condition": q.condition_text(number)}
        if q.kind == QuestionKind.MATRIX:
            item["rows"] = [(row, form[field_name(q, i)]) for i, row in enumerate(q.rows)]
            item["errors"] = list(dict.fromkeys(e for i in range(len(q.rows)) for e in form[field_name(q, i)].errors))
            item["scale"] = q.scale_labels or list(DEFAULT_SCALE)
        else:
            item["field"] = form[field_name(q)]
            item["errors"] = list(item["field"].errors)
        if q.show_if_question_id:
            src = q.show_if_question
            assert src is not None
            item["show_if"] = f"q_{src.key}"
            item["show_values"] = json.dumps(q.show_if_values, ensure_ascii=False)
        items.append(item)
    return items


def _respondent_page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"  # "no-referrer" would send Origin: null and fail CSRF
    return response


def _answer_list(questions: list[Question], answers: dict[str, Any]) -> list[tuple[int, Question, str]]:
    number = services.numbering(questions)
    out = []
    for q in questions:
        v = answers.get(q.key)
        if v is None:
            continue
        if q.kind == QuestionKind.MATRIX and isinstance(v, dict):
            text = "、".join(f"{row}：{q.option_label(str(v[row]))}" for row in q.rows if row in v)
        elif isinstance(v, list):
            text = "、".join(v)
        elif q.kind == QuestionKind.SCALE:
            text = q.option_label(str(v))
        elif q.kind == QuestionKind.NUMBER:
            text = f"{v:,}{q.unit}" if isinstance(v, int) else f"{v:g}{q.unit}"
        else:
            text = str(v)
        out.append((number[q.pk], q, text))
    return out


@login_not_required
@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    """The respondent's own page: their form (draft/submit) and their own answers, nothing else."""
    recipient = Recipient.objects.select_related("survey__group").filter(token=token).first()
    if recipient is None or len(token) > 64:
        return _respondent_page(request, "surveys/respond_message.html", {
            "title": "リンクが正しくありません",
            "message": "このアンケートのリンクは無効です。届いたメールのリンクをもう一度ご確認ください。"
                       "リンクが削除された可能性もあります。"}, status=404)
    survey = recipient.survey
    response = Response.objects.filter(recipient=recipient).first()
    questions = services.questions_of(survey)
    answers = response.answers if response else {}
    own = _answer_list(questions, answers) if response and response.status == ResponseStatus.SUBMITTED else []
    base = {"survey": survey, "recipient": recipient, "response": response, "own_answers": own}
    d = recipient.expires_on
    if survey.status == SurveyStatus.DRAFT:
        state, msg = "draft", "このアンケートはまだ回答の受付を始めていません。受付の開始後にもう一度このリンクを開いてください。"
    elif survey.status == SurveyStatus.CLOSED:
        state, msg = "closed", "このアンケートは締め切りました。回答の受付は終了しています。ご協力ありがとうございました。"
    elif recipient.is_expired():
        state, msg = "expired", (f"このリンクの回答期限（{d.year}年{d.month}月{d.day}日）を過ぎたため、回答できません。"
                                 "回答を希望される場合は、調査の担当者にお問い合わせください。")
    else:
        state, msg = "open", ""
    if state != "open":
        if request.method == "POST":
            return _respondent_page(request, "surveys/respond_message.html",
                                    {**base, "title": "回答できません", "message": msg}, status=403)
        return _respondent_page(request, "surveys/respond_message.html",
                                {**base, "title": survey.title, "message": msg})

    submitted = response is not None and response.status == ResponseStatus.SUBMITTED
    if request.method == "GET" and submitted and request.GET.get("edit") != "1":
        return _respondent_page(request, "surveys/respond_done.html", base)

    if request.method == "POST":
        final = request.POST.get("action") != "draft" or submitted
        form = ResponseForm(request.POST, questions=questions, final=final)
        if form.is_valid():
            with transaction.atomic():
                resp, _ = Response.objects.select_for_update().get_or_create(recipient=recipient)
                resp.answers = form.cleaned_data["answers"]
                if final:
                    resp.status = ResponseStatus.SUBMITTED
                    resp.submitted_at = timezone.now()
                resp.save()
            if final:  # the page it lands on says so (回答を受け付けました)
                return redirect("surveys:respond", token=token)
            messages.success(request, "回答を一時保存しました。このページのリンクから、いつでも続きを入力できます"
                                      f"（回答期限 {d.year}年{d.month}月{d.day}日）。")
            return redirect(reverse("surveys:respond", args=[token]) + "#survey-form")
    else:
        form = ResponseForm(questions=questions, initial=ResponseForm.initial_from(questions, answers))
    return _respondent_page(request, "surveys/respond.html", {
        **base, "form": form, "items": _items(form, questions), "state": state, "submitted": submitted})
