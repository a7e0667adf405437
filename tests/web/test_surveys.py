"""アンケート調査: a contractor market sounding for the demo group 奈良モデル地域, end to end.

Built from the template by 宇陀市's editor, sent to five local companies by unique links, answered
(draft, resume, submit) without login, aggregated and exported — and nobody outside the group, nor a
respondent's token, ever reaches the group's data.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from gunmane.io.shipped import surveys as survey_templates
from gunmane.web.demo import DEMO_GROUP, create_demo_group, load_demo_ledger
from gunmane.web.groups.models import Group, GroupMember, MemberRole
from gunmane.web.registry import frames
from gunmane.web.registry.models import Municipality
from gunmane.web.surveys.forms import ResponseForm
from gunmane.web.surveys.models import Question, Recipient, Response, Survey, SurveyStatus

pytestmark = pytest.mark.django_db

COMPANIES = """会社名\t業種\t所在地\t従業員規模
宇陀建設株式会社\t土木工事業\t宇陀市\t30〜99人
曽爾土木有限会社\t土木工事業\t曽爾村\t10〜29人
御杖造園\t造園工事業\t御杖村\t1〜9人
東吉野舗装株式会社\t舗装工事業\t東吉野村\t10〜29人
大和ロード株式会社\t土木工事業\t奈良市\t100人以上
"""

APPEAL_ROWS = 6


def client(username: str | None = "uda") -> Client:
    c = Client()
    if username:
        assert c.login(username=username, password={"uda-viewer": "pw-viewer-123", "osaka": "pw-osaka-123"}.get(
            username, "gunmane-demo"))
    return c


@pytest.fixture
def demo(users):  # type: ignore[no-untyped-def]
    frames.clear_cache()
    load_demo_ledger()
    create_demo_group()
    # 大阪市 belongs to another group: its editor must not see ours.
    other = Group.objects.create(name="大阪湾岸モデル")
    GroupMember.objects.create(group=other, municipality=Municipality.objects.get(lg_code="271004"),
                               role=MemberRole.LEAD)
    yield Group.objects.get(name=DEMO_GROUP)
    frames.clear_cache()


def create_contractor_survey(group: Group, c: Client | None = None) -> Survey:
    c = c or client()
    closes = timezone.localdate() + timedelta(days=21)
    r = c.post(reverse("surveys:create", args=[group.pk]), {
        "template": "contractor", "title": "", "sectors": ["road", "river", "park"],
        "work_kinds": ["patrol", "repair", "cleaning", "weeding", "snow"], "closes_on": closes.isoformat()})
    assert r.status_code == 302, r.content.decode()[:2000]
    return Survey.objects.get(pk=int(r["Location"].rstrip("/").split("/")[-1]))


def answer_data(survey: Survey, answers: dict[str, Any], action: str = "submit") -> dict[str, Any]:
    data: dict[str, Any] = {"action": action}
    for q in survey.questions.all():
        v = answers.get(q.key)
        if v is None:
            continue
        if q.kind == "matrix":
            for i, row in enumerate(q.rows):
                if row in v:
                    data[f"q_{q.key}__{i}"] = v[row]
        else:
            data[f"q_{q.key}"] = v
    return data


def full_answer(survey: Survey, **overrides: Any) -> dict[str, Any]:
    appeal = survey.questions.get(key="appeal")
    base: dict[str, Any] = {
        "current_works": ["道路等の巡回（パトロール）", "除草・樹木の剪定"], "awareness": "名前は聞いたことがある",
        "interest": "参加したい", "join_form": "共同企業体（JV・地域維持型JV）を組む",
        "appeal": {row: 4 for row in appeal.rows}, "contract_years": "2〜3年",
        "capable_works": ["道路等の巡回（パトロール）", "清掃"], "capable_sectors": ["道路"], "area": ["宇陀市"],
        "engineers": "5", "workers": "12", "concerns": ["事務負担"],
    }
    base["concerns"] = ["書類作成・報告などの事務負担の増加"]
    base.update(overrides)
    return base


@pytest.fixture
def sent(demo):  # type: ignore[no-untyped-def]
    """The contractor survey, five companies registered, opened."""
    survey = create_contractor_survey(demo)
    c = client()
    r = c.post(reverse("surveys:recipients", args=[survey.pk]),
               {"lines": COMPANIES, "expires_on": survey.closes_on.isoformat()})
    assert r.status_code == 302, r.content.decode()[:3000]
    assert c.post(reverse("surveys:status", args=[survey.pk]), {"action": "open"}).status_code == 302
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.OPEN
    return survey


def token(survey: Survey, name: str) -> str:
    return Recipient.objects.get(survey=survey, name=name).token


def respond_url(survey: Survey, name: str) -> str:
    return reverse("surveys:respond", args=[token(survey, name)])


@pytest.fixture
def answered(sent):  # type: ignore[no-untyped-def]
    """Four companies submitted, one saved a draft."""
    s = sent
    anon = Client()
    appeal = s.questions.get(key="appeal")
    plan = {
        "宇陀建設株式会社": full_answer(s, engineers="8", workers="25", area=["宇陀市", "曽爾村"],
                                 comments="=HYPERLINK(\"http://evil\")"),
        "曽爾土木有限会社": full_answer(s, interest="条件によっては参加を検討する",
                                 join_form="事業協同組合として受注する", engineers="3", workers="6",
                                 concerns=["技術者・作業員や後継者の不足", "その他"],
                                 concerns_other="冬季の除雪と重なる時期の人員確保が難しい。"),
        "御杖造園": full_answer(s, interest="参加しない", join_form=None, engineers="１", workers="2",
                             no_reasons=["技術者・作業員が足りない", "採算が合わない"],
                             appeal={row: 2 for row in appeal.rows}),
        "東吉野舗装株式会社": full_answer(s, engineers="4", workers="10", awareness="知らない"),
    }
    for name, answers in plan.items():
        r = anon.post(respond_url(s, name), answer_data(s, answers))
        assert r.status_code == 302, (name, r.content.decode()[:3000])
    anon.post(respond_url(s, "大和ロード株式会社"),
              answer_data(s, {"interest": "参加したい", "engineers": "40"}, action="draft"))
    return s


# ------------------------------------------------------------------------------ building


def test_create_form_ticks_the_sectors_of_the_members_ledger(demo) -> None:  # type: ignore[no-untyped-def]
    r = client().get(reverse("surveys:create", args=[demo.pk]))
    assert r.status_code == 200
    ticked = r.context["form"].initial["sectors"]
    assert "road" in ticked and set(ticked) <= set(survey_templates.sector_names())
    page = r.content.decode()
    assert "受注者向け 市場調査（サウンディング）" in page and "住民向け 満足度調査" in page


def test_contractor_survey_is_built_for_the_demo_group(demo) -> None:  # type: ignore[no-untyped-def]
    survey = create_contractor_survey(demo)
    assert survey.group == demo and survey.status == SurveyStatus.DRAFT
    assert survey.title.startswith(DEMO_GROUP) and "道路・河川・公園" in survey.intro
    assert survey.attribute_labels == ["業種", "所在地", "従業員規模"] and survey.name_label == "会社名"
    qs = {q.key: q for q in survey.questions.all()}
    assert len(qs) == 20
    assert qs["area"].choices == ["宇陀市", "曽爾村", "御杖村", "東吉野村"]  # 奈良県 (prefecture) is not an area
    assert qs["capable_sectors"].choices == ["道路", "河川", "公園"]
    assert qs["join_form"].show_if_question == qs["interest"]
    assert qs["join_form"].show_if_values == ["参加したい", "条件によっては参加を検討する"]
    assert "凍結防止剤散布車" in qs["machines"].choices  # snow was ticked
    assert len(qs["appeal"].rows) == APPEAL_ROWS and qs["appeal"].scale_labels[4] == "大いに感じる"
    detail = client().get(reverse("surveys:detail", args=[survey.pk])).content.decode()
    assert "問20" in detail and "問3で「参加したい」「条件によっては参加を検討する」と答えた方のみ" in detail


def test_create_form_errors_are_japanese_and_create_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    yesterday = timezone.localdate() - timedelta(days=1)
    r = client().post(reverse("surveys:create", args=[demo.pk]),
                      {"template": "contractor", "closes_on": yesterday.isoformat()})
    page = r.content.decode()
    assert r.status_code == 200
    assert "対象の分野を1つ以上選んでください。" in page and "対象の業務を1つ以上選んでください。" in page
    assert "回答期限が過去の日付です" in page
    r = client().post(reverse("surveys:create", args=[demo.pk]), {"template": "nope", "sectors": ["road"],
                                                                  "work_kinds": ["patrol"], "closes_on": "明日"})
    assert "正しく選択してください" in r.content.decode() and "日付を正しく入力してください" in r.content.decode()
    assert not Survey.objects.exists()


# ------------------------------------------------------------------------------ permissions


def staff_urls(s: Survey) -> dict[str, tuple[str, bool]]:
    """name → (url, needs edit rights) for GET."""
    q = s.questions.first()
    assert q is not None
    return {
        "index": (reverse("surveys:index"), False),
        "group": (reverse("surveys:group", args=[s.group_id]), False),
        "detail": (reverse("surveys:detail", args=[s.pk]), False),
        "preview": (reverse("surveys:preview", args=[s.pk]), False),
        "pdf": (reverse("surveys:pdf", args=[s.pk]), False),
        "recipients": (reverse("surveys:recipients", args=[s.pk]), True),  # holds every answer link
        "results": (reverse("surveys:results", args=[s.pk]), False),
        "results_csv": (reverse("surveys:results_export", args=[s.pk, "csv"]), False),
        "results_xlsx": (reverse("surveys:results_export", args=[s.pk, "xlsx"]), False),
        "create": (reverse("surveys:create", args=[s.group_id]), True),
        "settings": (reverse("surveys:settings", args=[s.pk]), True),
        "question_new": (reverse("surveys:question_create", args=[s.pk]), True),
        "question_edit": (reverse("surveys:question_edit", args=[s.pk, q.pk]), True),
        "links_csv": (reverse("surveys:links", args=[s.pk, "csv"]), True),
        "links_xlsx": (reverse("surveys:links", args=[s.pk, "xlsx"]), True),
    }


def staff_posts(s: Survey) -> list[tuple[str, dict[str, Any]]]:
    q = s.questions.last()
    assert q is not None
    return [
        (reverse("surveys:status", args=[s.pk]), {"action": "close"}),
        (reverse("surveys:recipients", args=[s.pk]), {"lines": "侵入者建設", "expires_on": s.closes_on.isoformat()}),
        (reverse("surveys:recipients_expiry", args=[s.pk]), {"expires_on": s.closes_on.isoformat()}),
        (reverse("surveys:question_delete", args=[s.pk, q.pk]), {}),
        (reverse("surveys:delete", args=[s.pk]), {}),
    ]


@pytest.mark.parametrize("username, can_view, can_edit", [
    ("uda", True, True),               # editor of the lead member
    ("soni", True, True),              # editor of another member
    ("uda-viewer", True, False),       # viewer of a member
    ("nara", True, False),             # the supporting prefecture (viewer)
    ("osaka", False, False),           # editor in another group
])
def test_who_may_see_and_edit(sent, username: str, can_view: bool, can_edit: bool) -> None:  # type: ignore[no-untyped-def]
    c = client(username)
    for name, (url, needs_edit) in staff_urls(sent).items():
        expected = 200 if (can_edit if needs_edit else can_view) else 403
        if name == "index":
            expected = 200
        if name.startswith("question_") and can_edit:
            expected = 302  # the survey is open: questions are frozen (the editor is sent back)
        got = c.get(url).status_code
        assert got == expected, (username, name, got)
    index = c.get(reverse("surveys:index")).content.decode()
    assert (sent.title in index) == can_view
    if not can_edit:
        for url, data in staff_posts(sent):
            assert c.post(url, data).status_code == 403, (username, url)
        sent.refresh_from_db()
        assert sent.status == SurveyStatus.OPEN and sent.recipients.count() == 5
    if not can_view:
        page = c.get(reverse("surveys:detail", args=[sent.pk])).content.decode()
        assert "閲覧する権限がありません" in page


def test_anonymous_and_a_token_never_reach_staff_pages(answered) -> None:  # type: ignore[no-untyped-def]
    anon = Client()
    anon.get(respond_url(answered, "宇陀建設株式会社"))  # holding a token (and its session) changes nothing
    for name, (url, _) in staff_urls(answered).items():
        r = anon.get(url)
        assert r.status_code == 302 and reverse("login") in r["Location"], name
        r = anon.get(url + f"?token={token(answered, '宇陀建設株式会社')}")
        assert r.status_code == 302 and reverse("login") in r["Location"], name
    for url, data in staff_posts(answered):
        assert anon.post(url, data).status_code == 302
    assert answered.recipients.count() == 5
    # the group's ledger and karte are closed to a respondent too
    for url in (reverse("analysis:group", args=[answered.group_id]), reverse("registry:facility_list", args=["292125"])):
        assert anon.get(url).status_code == 302


# ------------------------------------------------------------------------------ editing questions


def test_add_edit_and_validate_questions(demo) -> None:  # type: ignore[no-untyped-def]
    survey = create_contractor_survey(demo)
    c = client()
    url = reverse("surveys:question_create", args=[survey.pk])
    form_page = c.get(url + "?kind=matrix").content.decode()
    assert 'value="matrix"' in form_page and "---------" not in form_page and "（条件なし：全員に表示）" in form_page
    r = c.post(url, {"kind": "single", "text": "貴社の創業年代", "choices_text": "昭和以前"})
    assert "選択肢を2つ以上" in r.content.decode()
    interest = survey.questions.get(key="interest")
    r = c.post(url, {"kind": "text", "text": "参加の条件", "show_if_question": interest.pk,
                     "values_text": "ぜひ参加"})
    page = r.content.decode()
    assert "「ぜひ参加」は条件の設問の選択肢にありません" in page and "参加したい" in page
    r = c.post(url, {"kind": "matrix", "text": "評価", "rows_text": "", "scale_text": "a\nb"})
    assert "マトリクスの行を1つ以上" in r.content.decode() and "ちょうど5行" in r.content.decode()
    r = c.post(url, {"kind": "number", "text": "保有台数", "min_value": "10", "max_value": "1"})
    assert "最大値は最小値以上" in r.content.decode()
    n = survey.questions.count()
    r = c.post(url, {"kind": "text", "text": "参加の条件をお書きください。", "required": "on",
                     "show_if_question": interest.pk, "values_text": "条件によっては参加を検討する"})
    assert r.status_code == 302
    new = survey.questions.order_by("-order").first()
    assert new is not None and survey.questions.count() == n + 1
    assert new.key == f"q{n + 1}" and new.show_if_question == interest and new.required
    # a condition source keeps the choices its dependents need
    r = c.post(reverse("surveys:question_edit", args=[survey.pk, interest.pk]), {
        "kind": "single", "text": interest.text, "required": "on", "choices_text": "参加したい\n参加しない"})
    assert "表示条件に使われているため、削除・変更できません" in r.content.decode()
    r = c.post(reverse("surveys:question_edit", args=[survey.pk, interest.pk]), {
        "kind": "text", "text": interest.text})
    assert "選択式（単一・複数・5段階）以外にはできません" in r.content.decode()
    # and cannot be deleted, nor can a dependent move above it
    r = c.post(reverse("surveys:question_delete", args=[survey.pk, interest.pk]), follow=True)
    assert "表示条件に使われているため削除できません" in r.content.decode()
    join = survey.questions.get(key="join_form")
    r = c.post(reverse("surveys:question_move", args=[survey.pk, join.pk]), {"direction": "up"}, follow=True)
    assert "その前には移動できません" in r.content.decode()
    # moving an unrelated question works
    awareness = survey.questions.get(key="awareness")
    c.post(reverse("surveys:question_move", args=[survey.pk, awareness.pk]), {"direction": "up"})
    assert list(survey.questions.values_list("key", flat=True)[:2]) == ["awareness", "current_works"]
    # the earlier-question rule: a question cannot depend on a later one
    form_page = c.get(reverse("surveys:question_edit", args=[survey.pk, awareness.pk])).content.decode()
    assert "参加を検討しますか" not in form_page
    comments = survey.questions.get(key="comments")
    c.post(reverse("surveys:question_delete", args=[survey.pk, comments.pk]))
    assert not survey.questions.filter(key="comments").exists()


def test_questions_are_frozen_once_open(sent) -> None:  # type: ignore[no-untyped-def]
    q = sent.questions.get(key="interest")
    c = client()
    r = c.post(reverse("surveys:question_edit", args=[sent.pk, q.pk]),
               {"kind": "single", "text": "変更", "choices_text": "a\nb"}, follow=True)
    assert "公開した調査の設問は変更できません" in r.content.decode()
    q.refresh_from_db()
    assert q.text != "変更"


def test_settings_and_attribute_lock(demo) -> None:  # type: ignore[no-untyped-def]
    survey = create_contractor_survey(demo)
    c = client()
    url = reverse("surveys:settings", args=[survey.pk])
    r = c.post(url, {"title": "市場調査（第1回）", "intro": "説明", "closes_on": survey.closes_on.isoformat(),
                     "name_label": "会社名", "attributes_text": "業種\n所在地\n従業員規模\n創業年"})
    assert r.status_code == 302
    survey.refresh_from_db()
    assert survey.title == "市場調査（第1回）" and survey.attribute_labels[-1] == "創業年"
    r = c.post(url, {"title": "", "intro": "", "closes_on": "2000-01-01", "name_label": "会社名",
                     "attributes_text": "\n".join(f"属性{i}" for i in range(8))})
    page = r.content.decode()
    # Django REST framework's Japanese catalogue (an installed app) words Django's "This field is required." so
    assert "この項目は必須です。" in page and "回答期限が過去の日付です" in page and "属性は6個まで" in page


# ------------------------------------------------------------------------------ recipients


def test_bulk_add_recipients_by_paste_and_cp932_csv(sent) -> None:  # type: ignore[no-untyped-def]
    companies = list(sent.recipients.values_list("name", "attributes"))
    assert companies[0] == ("宇陀建設株式会社", ["土木工事業", "宇陀市", "30〜99人"])  # header line skipped
    assert len({r.token for r in sent.recipients.all()}) == 5
    assert all(len(r.token) >= 32 for r in sent.recipients.all())
    c = client()
    csv_bytes = "会社名,業種,所在地,従業員規模\n榛原興業,とび・土工工事業,宇陀市,10〜29人\n室生緑化,造園工事業,宇陀市\n".encode("cp932")
    upload = io.BytesIO(csv_bytes)
    upload.name = "業者一覧.csv"
    r = c.post(reverse("surveys:recipients", args=[sent.pk]), {"file": upload, "expires_on": sent.closes_on.isoformat()})
    assert r.status_code == 302
    assert Recipient.objects.get(survey=sent, name="室生緑化").attributes == ["造園工事業", "宇陀市", ""]
    unicode_text = io.BytesIO("会社名\t業種\n大宇陀工務店\t建築工事業\n".encode("utf-16"))  # Excel 「Unicode テキスト」
    unicode_text.name = "業者一覧.txt"
    r = c.post(reverse("surveys:recipients", args=[sent.pk]), {"file": unicode_text, "expires_on": sent.closes_on.isoformat()})
    assert r.status_code == 302
    assert Recipient.objects.get(survey=sent, name="大宇陀工務店").attributes == ["建築工事業", "", ""]


def test_recipient_errors_are_all_or_nothing(sent) -> None:  # type: ignore[no-untyped-def]
    c = client()
    lines = "新規建設,土木工事業,宇陀市,10人\n,土木,宇陀市\n宇陀建設株式会社,土木\n列多すぎ,a,b,c,d,e\n新規建設,重複"
    r = c.post(reverse("surveys:recipients", args=[sent.pk]), {"lines": lines, "expires_on": sent.closes_on.isoformat()})
    page = r.content.decode()
    assert r.status_code == 200
    assert "2行目：会社名が空です。" in page
    assert "3行目：「宇陀建設株式会社」はすでに登録されています。" in page
    assert "4行目：列が多すぎます（6列）" in page and "5行目：「新規建設」が重複しています。" in page
    assert sent.recipients.count() == 5  # nothing half-written
    r = c.post(reverse("surveys:recipients", args=[sent.pk]), {"lines": "", "expires_on": "2000-01-01"})
    page = r.content.decode()
    assert "回答者を貼り付けるか、CSV ファイルを選んでください。" in page and "回答期限が過去の日付です" in page
    bad = io.BytesIO(b"\x81\x00\xff\xfe\x80")
    bad.name = "list.xlsx"
    r = c.post(reverse("surveys:recipients", args=[sent.pk]), {"file": bad, "expires_on": sent.closes_on.isoformat()})
    assert "CSV ではありません" in r.content.decode()
    undecodable = io.BytesIO(b"\x82\xa0\xff\xff\xff")
    undecodable.name = "list.csv"
    r = c.post(reverse("surveys:recipients", args=[sent.pk]),
               {"file": undecodable, "expires_on": sent.closes_on.isoformat()})
    assert "「list.csv」：文字コードを判別できません" in r.content.decode()
    binary = io.BytesIO(b"\xe5\xae\x87\x00\x01")
    binary.name = "list.csv"
    r = c.post(reverse("surveys:recipients", args=[sent.pk]), {"file": binary, "expires_on": sent.closes_on.isoformat()})
    assert "「list.csv」：文字コードを判別できません（1行目に文字ではないデータ U+0000 があります）" in r.content.decode()
    assert sent.recipients.count() == 5


def test_link_list_downloads_for_mail_merge(sent) -> None:  # type: ignore[no-untyped-def]
    c = client()
    r = c.get(reverse("surveys:links", args=[sent.pk, "csv"]))
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["会社名", "業種", "所在地", "従業員規模", "回答用URL", "有効期限", "回答状況"]
    first = Recipient.objects.get(survey=sent, name="宇陀建設株式会社")
    assert rows[1][0] == "宇陀建設株式会社" and rows[1][4] == f"http://testserver/surveys/r/{first.token}/"
    assert rows[1][6] == "未回答" and len(rows) == 6
    wb = load_workbook(io.BytesIO(c.get(reverse("surveys:links", args=[sent.pk, "xlsx"])).content))
    ws = wb["回答用リンク"]
    assert ws["A2"].value == "宇陀建設株式会社" and ws["E2"].value.endswith(f"/surveys/r/{first.token}/")
    assert c.get(reverse("surveys:links", args=[sent.pk, "pdf"])).status_code == 404


def test_expiry_can_be_extended_and_a_recipient_deleted(sent) -> None:  # type: ignore[no-untyped-def]
    c = client()
    later = sent.closes_on + timedelta(days=10)
    c.post(reverse("surveys:recipients_expiry", args=[sent.pk]), {"expires_on": later.isoformat()})
    assert set(sent.recipients.values_list("expires_on", flat=True)) == {later}
    r = Recipient.objects.get(survey=sent, name="大和ロード株式会社")
    old = r.token
    c.post(reverse("surveys:recipient_delete", args=[sent.pk, r.pk]))
    assert Client().get(reverse("surveys:respond", args=[old])).status_code == 404


# ------------------------------------------------------------------------------ answering


def test_draft_is_saved_and_resumed_through_the_same_link(sent) -> None:  # type: ignore[no-untyped-def]
    anon = Client()
    url = respond_url(sent, "曽爾土木有限会社")
    page = anon.get(url)
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    html = page.content.decode()
    assert "曽爾土木有限会社 様" in html and "問1" in html and "ログアウト" not in html
    assert 'data-show-if="q_interest"' in html
    r = anon.post(url, answer_data(sent, {"interest": "参加したい", "engineers": "３", "comments": "途中まで"}, "draft"),
                  follow=True)
    assert "回答を一時保存しました" in r.content.decode()
    resp = Response.objects.get(recipient__name="曽爾土木有限会社")
    assert resp.status == "draft" and resp.answers == {"interest": "参加したい", "engineers": 3, "comments": "途中まで"}
    # a new browser, the same link: the draft comes back
    html = Client().get(url).content.decode()
    assert 'value="途中まで"' in html or "途中まで</textarea>" in html
    assert 'value="参加したい" checked' in html.replace('" id', '"').replace("  ", " ") or \
        'checked' in html.split('value="参加したい"')[1][:40]
    assert 'value="3"' in html


def test_submit_checks_required_answers_and_conditions(sent) -> None:  # type: ignore[no-untyped-def]
    anon = Client()
    url = respond_url(sent, "御杖造園")
    r = anon.post(url, answer_data(sent, {"interest": "参加しない", "engineers": "多い"}))
    page = r.content.decode()
    assert r.status_code == 200 and "回答に不足や誤りがあります" in page
    assert "この設問は回答が必要です。" in page and "「多い」は数値として読めません" in page
    errors = r.context["form"].errors
    assert "q_no_reasons" in errors  # shown because 参加しない
    assert "q_join_form" not in errors  # skipped because 参加しない
    assert "q_appeal__0" in errors and "すべての行に回答してください（未回答 6行" in page
    assert not Response.objects.filter(recipient__name="御杖造園").exists()
    # an answer to a skipped question is dropped, not stored
    answers = full_answer(sent, interest="参加しない", no_reasons=["採算が合わない"], engineers="-1")
    r = anon.post(url, answer_data(sent, answers))
    assert "0人以上の値を入力してください。" in r.content.decode()
    answers["engineers"] = "2"
    r = anon.post(url, answer_data(sent, answers))
    assert r.status_code == 302
    stored = Response.objects.get(recipient__name="御杖造園")
    assert stored.status == "submitted" and stored.submitted_at is not None
    assert "join_form" not in stored.answers and stored.answers["no_reasons"] == ["採算が合わない"]
    assert stored.answers["appeal"]["総価（一括）での契約"] == 4
    done = anon.get(url).content.decode()
    assert "回答を受け付けました" in done and "採算が合わない" in done and "回答を修正する" in done


def test_number_answers_are_read_as_the_ledger_importer_reads_numbers() -> None:
    q = Question(key="staff", kind="number", text="技術者の人数", unit="人", min_value=0, order=10)

    def answer(raw: str) -> tuple[Any, list[str]]:
        form = ResponseForm({"q_staff": raw}, questions=[q])
        form.is_valid()
        return form.cleaned_data.get("answers", {}).get("staff"), form.errors.get("q_staff", [])

    assert answer("１,２００") == (1200, []) and answer("12人") == (12, []) and answer("5名") == (5, [])
    assert answer("約30") == (30, []) and answer("2.5") == (2.5, [])
    assert answer("多い")[1] == ["「多い」は数値として読めません。数字で入力してください（例：12）。"]
    assert answer("不明")[1] == ["「不明」は数値として読めません。数字で入力してください（例：12）。"]
    assert answer("3件")[1] == ["「3件」は数値として読めません。この欄の単位は 人 です。件 の値は入力できません。"
                               "人 の数値で入力してください。"]
    assert answer("1e309")[1] and answer("-1")[1] == ["0人以上の値を入力してください。"]


def test_tampered_and_odd_input_never_crashes(sent) -> None:  # type: ignore[no-untyped-def]
    anon = Client()
    url = respond_url(sent, "御杖造園")
    answers = full_answer(sent, interest="存在しない選択肢", capable_sectors=["宇宙"], engineers="1e309")
    data = answer_data(sent, answers)
    data["q_appeal__0"] = "9"
    data["q_nonexistent"] = "x"
    r = anon.post(url, data)
    page = r.content.decode()
    assert r.status_code == 200 and "正しく選択してください" in page
    assert anon.post(url, {"action": "draft", "q_comments": "x" * 5000}).status_code == 200
    for odd in ("nan", "inf", "-1e400", "１２人", "1,200"):
        r = anon.post(url, {"action": "draft", "q_engineers": odd})
        assert r.status_code in (200, 302), odd
    assert Response.objects.get(recipient__name="御杖造園").answers == {"engineers": 1200}  # the last, 1,200
    Response.objects.filter(recipient__name="御杖造園").delete()
    r = client().post(reverse("surveys:recipients", args=[sent.pk]),
                      {"lines": "\"未完の引用\x00,土木\n", "expires_on": sent.closes_on.isoformat()})
    assert r.status_code in (200, 302)
    assert anon.get(reverse("surveys:respond", args=["x" * 500])).status_code == 404
    assert not Response.objects.filter(recipient__name="御杖造園").exists()


def test_max_choices_is_enforced(demo) -> None:  # type: ignore[no-untyped-def]
    c = client()
    r = c.post(reverse("surveys:create", args=[demo.pk]), {
        "template": "resident", "sectors": ["road", "park"], "work_kinds": ["patrol", "snow"],
        "closes_on": (timezone.localdate() + timedelta(days=5)).isoformat()})
    survey = Survey.objects.get(pk=int(r["Location"].rstrip("/").split("/")[-1]))
    c.post(reverse("surveys:recipients", args=[survey.pk]), {"lines": "001\t榛原\t40代", "expires_on":
                                                             survey.closes_on.isoformat()})
    r = c.post(reverse("surveys:recipients", args=[survey.pk]), {"numbered": "3", "lines": "x",
                                                                 "expires_on": survey.closes_on.isoformat()})
    assert "どちらか一方だけ指定してください" in r.content.decode()
    c.post(reverse("surveys:recipients", args=[survey.pk]), {"numbered": "3", "expires_on": survey.closes_on.isoformat()})
    assert list(survey.recipients.values_list("name", "attributes")) == [
        ("001", ["榛原", "40代"]), ("002", ["", ""]), ("003", ["", ""]), ("004", ["", ""])]
    c.post(reverse("surveys:recipients", args=[survey.pk]), {"numbered": "3", "expires_on": survey.closes_on.isoformat()})
    assert list(survey.recipients.values_list("name", flat=True))[-3:] == ["005", "006", "007"]
    survey.recipients.exclude(name__in=["001"]).delete()
    c.post(reverse("surveys:status", args=[survey.pk]), {"action": "open"})
    url = reverse("surveys:respond", args=[survey.recipients.get(name="001").token])
    r = Client().post(url, {"action": "draft", "q_priorities": ["除雪", "通報への早い対応", "清掃・除草の回数",
                                                                  "傷んだ路面の早い補修"]})
    assert "選べるのは3つまでです（4つ選ばれています）。" in r.content.decode()


def test_closed_draft_and_expired_links_stop_answers(sent) -> None:  # type: ignore[no-untyped-def]
    anon = Client()
    url = respond_url(sent, "東吉野舗装株式会社")
    r = anon.post(url, answer_data(sent, full_answer(sent)))
    assert r.status_code == 302
    client().post(reverse("surveys:status", args=[sent.pk]), {"action": "close"})
    page = anon.get(url).content.decode()
    assert "このアンケートは締め切りました。回答の受付は終了しています。" in page
    assert "書類作成・報告などの事務負担の増加" in page  # their own answers stay visible to them
    r = anon.post(url, answer_data(sent, full_answer(sent, interest="参加しない")))
    assert r.status_code == 403 and "締め切りました" in r.content.decode()
    assert Response.objects.get(recipient__name="東吉野舗装株式会社").answers["interest"] == "参加したい"
    other = respond_url(sent, "御杖造園")
    assert anon.post(other, answer_data(sent, full_answer(sent))).status_code == 403
    assert not Response.objects.filter(recipient__name="御杖造園").exists()
    # reopen; an expired link still refuses
    client().post(reverse("surveys:status", args=[sent.pk]), {"action": "open"})
    Recipient.objects.filter(survey=sent, name="御杖造園").update(expires_on=timezone.localdate() - timedelta(days=1))
    page = anon.get(other).content.decode()
    assert "回答期限" in page and "過ぎたため、回答できません" in page
    assert anon.post(other, answer_data(sent, full_answer(sent))).status_code == 403
    # a survey not yet opened
    draft = create_contractor_survey(sent.group)
    client().post(reverse("surveys:recipients", args=[draft.pk]), {"lines": "甲建設", "expires_on":
                                                                   draft.closes_on.isoformat()})
    page = anon.get(reverse("surveys:respond", args=[draft.recipients.get().token])).content.decode()
    assert "まだ回答の受付を始めていません" in page


def test_a_token_shows_only_its_own_answers(answered) -> None:  # type: ignore[no-untyped-def]
    other_answer = "冬季の除雪と重なる時期の人員確保が難しい。"  # 曽爾土木's free text
    mine = Client().get(respond_url(answered, "宇陀建設株式会社")).content.decode()
    assert "宇陀建設株式会社" in mine
    assert other_answer not in mine and "曽爾土木有限会社" not in mine and "御杖造園" not in mine
    assert "大和ロード" not in mine and "集計" not in mine
    theirs = Client().get(respond_url(answered, "曽爾土木有限会社")).content.decode()
    assert other_answer in theirs and "宇陀建設株式会社" not in theirs
    # editing through one token never touches another's response
    before = Response.objects.get(recipient__name="曽爾土木有限会社").answers
    Client().post(respond_url(answered, "宇陀建設株式会社"),
                  answer_data(answered, full_answer(answered, comments="修正しました")))
    assert Response.objects.get(recipient__name="曽爾土木有限会社").answers == before
    assert Response.objects.get(recipient__name="宇陀建設株式会社").answers["comments"] == "修正しました"


# ------------------------------------------------------------------------------ results


def test_results_count_chart_and_crosstab(answered) -> None:  # type: ignore[no-untyped-def]
    c = client("nara")  # the prefecture follows the group's surveys
    r = c.get(reverse("surveys:results", args=[answered.pk]))
    assert r.status_code == 200
    assert r.context["n_submitted"] == 4 and r.context["n_drafts"] == 1 and r.context["n_recipients"] == 5
    res = {x.question.key: x for x in r.context["results"]}
    interest = {o.label: o.count for o in res["interest"].options}
    assert interest == {"参加したい": 2, "条件によっては参加を検討する": 1, "参加しない": 1, "わからない": 0}
    assert res["interest"].options[0].percent == 50.0
    assert res["join_form"].applicable == 3 and res["join_form"].answered == 3
    assert res["no_reasons"].applicable == 1
    engineers = res["engineers"].numbers
    assert engineers["n"] == 4 and engineers["sum"] == 16 and engineers["max"] == 8 and engineers["median"] == 3.5
    wide = next(row for row in res["appeal"].matrix if row.label == "複数の市町村の業務をまとめた発注（広域）")
    assert wide.counts == [0, 1, 0, 3, 0] and wide.mean == pytest.approx(3.5)
    assert [t.text for t in res["concerns_other"].texts] == ["冬季の除雪と重なる時期の人員確保が難しい。"]
    assert res["concerns_other"].texts[0].name == "曽爾土木有限会社"
    page = r.content.decode()
    assert 'id="survey-charts"' in page and 'data-chart="interest"' in page and "冬季の除雪と重なる時期" in page
    assert "大和ロード" not in page  # a draft is not counted nor listed
    # cross-tabulation: interest by 業種
    r = c.get(reverse("surveys:results", args=[answered.pk]) + "?q=interest&by=a0")
    tab = r.context["tab"]
    assert tab.by_label == "業種" and tab.columns[0] == "参加したい"
    assert tab.rows == [("土木工事業", [1, 1, 0, 0], 2), ("舗装工事業", [1, 0, 0, 0], 1), ("造園工事業", [0, 0, 1, 0], 1)]
    assert tab.totals == [2, 1, 1, 0] and tab.total_n == 4
    r = c.get(reverse("surveys:results", args=[answered.pk]) + "?q=area&by=a1")
    area = {label: counts for label, counts, _ in r.context["tab"].rows}
    assert area["宇陀市"] == [1, 1, 0, 0] and area["曽爾村"] == [1, 0, 0, 0]
    # nonsense parameters fall back quietly
    assert c.get(reverse("surveys:results", args=[answered.pk]) + "?q=nope&by=a99").status_code == 200


def test_results_export_csv_and_xlsx(answered) -> None:  # type: ignore[no-untyped-def]
    c = client()
    r = c.get(reverse("surveys:results_export", args=[answered.pk, "csv"]))
    assert r.content.startswith(b"\xef\xbb\xbf") and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["会社名"] for row in rows] == ["宇陀建設株式会社", "曽爾土木有限会社", "御杖造園", "東吉野舗装株式会社"]
    uda = rows[0]
    assert uda["業種"] == "土木工事業" and uda["状態"] == "送信済み"
    interest_col = next(k for k in uda if k.startswith("問3 "))
    assert uda[interest_col] == "参加したい"
    area_cols = [k for k in uda if k.startswith("問10 ") and "：" in k]
    assert [uda[k] for k in area_cols] == ["1", "1", "0", "0"]
    comments_col = next(k for k in uda if k.startswith("問20 "))
    assert uda[comments_col].startswith("'=HYPERLINK")  # formula injection neutralised
    everyone = c.get(reverse("surveys:results_export", args=[answered.pk, "csv"]) + "?all=1").content.decode("utf-8-sig")
    assert "大和ロード株式会社" in everyone and "一時保存" in everyone and "未回答" not in everyone.split("\n")[0]
    wb = load_workbook(io.BytesIO(c.get(reverse("surveys:results_export", args=[answered.pk, "xlsx"])).content))
    assert wb.sheetnames == ["回答一覧", "単純集計", "設問"]
    ws = wb["回答一覧"]
    assert ws["A2"].value == "宇陀建設株式会社" and ws.max_row == 5
    assert all(not (isinstance(cell.value, str) and cell.value.startswith("=")) for row in ws.iter_rows()
               for cell in row)
    counts = [(row[0].value, row[2].value, row[3].value) for row in wb["単純集計"].iter_rows(min_row=3)]
    assert (3, "参加したい", 2) in counts and (3, "参加しない", 1) in counts
    assert wb["設問"]["E4"].value.startswith("複数の市町村")
    assert c.get(reverse("surveys:results_export", args=[answered.pk, "json"])).status_code == 404


def test_questionnaire_pdf_for_paper(sent) -> None:  # type: ignore[no-untyped-def]
    r = client("uda-viewer").get(reverse("surveys:pdf", args=[sent.pk]) + "?download=1")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "attachment" in r["Content-Disposition"]
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(r.content)).pages)  # pypdf: no poppler
    assert sent.title[:10] in text and "問20" in text and "会社名" in text and "東吉野村" in text
    assert "問3で「参加しない」と答えた方のみ" in text.replace("\n", "")


def test_preview_saves_nothing(sent) -> None:  # type: ignore[no-untyped-def]
    page = client("uda-viewer").get(reverse("surveys:preview", args=[sent.pk])).content.decode()
    assert "プレビュー" in page and "問20" in page and 'name="action"' not in page


def test_delete_only_without_answers(answered, demo) -> None:  # type: ignore[no-untyped-def]
    r = client().post(reverse("surveys:delete", args=[answered.pk]), follow=True)
    assert "回答がある調査は削除できません" in r.content.decode() and Survey.objects.filter(pk=answered.pk).exists()
    fresh = create_contractor_survey(demo)
    client().post(reverse("surveys:delete", args=[fresh.pk]))
    assert not Survey.objects.filter(pk=fresh.pk).exists() and not Question.objects.filter(survey_id=fresh.pk).exists()


def test_department_survey_of_the_members(demo) -> None:  # type: ignore[no-untyped-def]
    """構成団体の担当部署向け: hours and contracts summed over the four members, conditions by willingness."""
    c = client("soni")
    r = c.post(reverse("surveys:create", args=[demo.pk]), {
        "template": "department", "title": "群マネ導入に向けた現状調査", "sectors": ["road", "river"],
        "work_kinds": ["patrol", "inspection", "repair"],
        "closes_on": (timezone.localdate() + timedelta(days=14)).isoformat()})
    survey = Survey.objects.get(pk=int(r["Location"].rstrip("/").split("/")[-1]))
    assert survey.title == "群マネ導入に向けた現状調査" and survey.name_label == "団体名"
    assert survey.questions.get(key="burden").rows == ["道路等の巡回（パトロール）", "定期点検", "小規模な補修・修繕"]
    c.post(reverse("surveys:recipients", args=[survey.pk]), {
        "lines": "宇陀市,建設課,土木職\n曽爾村,建設課,土木職\n御杖村,建設課,事務職\n東吉野村,建設課,土木職",
        "expires_on": survey.closes_on.isoformat()})
    empty = c.get(reverse("surveys:results", args=[survey.pk])).content.decode()
    assert "送信済みの回答はまだありません" in empty
    c.post(reverse("surveys:status", args=[survey.pk]), {"action": "open"})
    figures = {"宇陀市": (6, 120, 900, "積極的に参加したい"), "曽爾村": (1, 25, 200, "内容によっては参加を検討したい"),
               "御杖村": (1, 18, 150, "慎重に判断したい"), "東吉野村": (2, 30, 260, "内容によっては参加を検討したい")}
    for name, (engineers, contracts, hours, willing) in figures.items():
        answers: dict[str, Any] = {
            "sectors_in_charge": ["道路"], "engineers": str(engineers), "contracts": str(contracts),
            "ordering_hours": str(hours), "outsourced_works": ["定期点検"], "pain_points": ["技術系職員の不足"],
            "willingness": willing}
        if willing == "慎重に判断したい":
            answers["obstacles"] = ["費用負担の考え方"]
        else:
            answers["shared_works"] = ["定期点検", "小規模な補修・修繕"]
        r = Client().post(reverse("surveys:respond", args=[token(survey, name)]), answer_data(survey, answers))
        assert r.status_code == 302, (name, r.context["form"].errors if r.context else r)
    res = {x.question.key: x for x in client("nara").get(reverse("surveys:results", args=[survey.pk])).context["results"]}
    assert res["contracts"].numbers["sum"] == 193 and res["ordering_hours"].numbers["sum"] == 1510
    assert res["engineers"].numbers["median"] == 1.5
    assert res["shared_works"].applicable == 3 and res["obstacles"].applicable == 1
    assert {o.label: o.count for o in res["shared_works"].options}["定期点検"] == 3
    tab = services_crosstab(survey, "willingness", "a1")
    assert tab == [("事務職", [0, 0, 1, 0], 1), ("土木職", [1, 2, 0, 0], 3)]


def services_crosstab(survey: Survey, key: str, by: str) -> list[tuple[str, list[int], int]]:
    from gunmane.web.surveys import services

    tab = services.crosstab(survey, survey.questions.get(key=key), by)
    assert tab is not None
    return tab.rows
