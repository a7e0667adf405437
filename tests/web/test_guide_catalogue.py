"""The guide's pages without a group (issue #13 §3–6): the case catalogue and cases like ours, the process and
"start a group", the plan items and the mechanism helper, 人の群マネ and the survey templates — for a visitor,
and the prefilled group form for 宇陀市's editor.

The pages read the shipped catalogue and the reference data (every test database has it); only the group
creation needs the demo users."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from django.test import Client
from django.urls import reverse

from gunmane.io.shipped import surveys as survey_templates

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("refdata")]  # a flushed DB gets it back

UDA, SONI, MITSUE, HIGASHIYOSHINO, SAKURAI = "292125", "293857", "293865", "294535", "292061"
CASES = json.loads(resources.files("gunmane.data").joinpath("groups", "cases.json").read_text("utf-8"))["cases"]
PROCESS = json.loads(resources.files("gunmane.data").joinpath("groups", "process.json").read_text("utf-8"))["stages"]
MECHANISMS = json.loads(resources.files("gunmane.data").joinpath("groups", "mechanisms.json").read_text("utf-8"))


def text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def rows(html: str, table_id: str) -> list[str]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</tbody>", 1)[0]
    return [r for r in body.split("<tr")[2:]]  # the first split part is the header's row


def test_every_page_answers_a_visitor_with_content() -> None:
    c = Client()
    cases = text(c.get(reverse("guide:cases")))
    assert all(case["name"] in cases for case in CASES) and all(case["source"] in cases for case in CASES)
    assert f"全 {len(CASES)} 件" in cases
    process = text(c.get(reverse("guide:process")))
    assert all(s["name"] in process for s in PROCESS) and PROCESS[0]["items"][0]["title"] in process
    assert PROCESS[1]["qa"][0]["q"] in process and PROCESS[0]["cautions"][0] in process
    decisions = text(c.get(reverse("guide:decisions")))
    assert all(m["name"] in decisions for m in MECHANISMS["mechanisms"]) and "健全性の診断" in decisions
    foundation = text(c.get(reverse("guide:foundation")))
    assert "岐阜県建設研究センター" in foundation
    templates = survey_templates.templates()
    assert all(t.name in foundation for t in templates.values())
    contractor = text(c.get(reverse("guide:survey_template", args=["contractor"])))
    assert templates["contractor"].questions[0].text.split("{")[0][:20] in contractor
    assert reverse("login") in contractor  # creating one needs signing in
    assert c.get(reverse("guide:survey_template", args=["nothing"])).status_code == 404
    start = text(c.get(reverse("guide:start")))
    assert 'name="q"' in start and "login" not in c.get(reverse("guide:start")).get("Location", "")


def test_filters_narrow_the_cases_as_the_catalogue_says() -> None:
    c = Client()

    def count(**params: str) -> int:
        html = text(c.get(reverse("guide:cases"), params))
        return len(rows(html, "all-cases"))

    assert count() == len(CASES)
    assert count(type="vertical") == sum("vertical" in x["types"] for x in CASES)
    assert count(sector="park") == sum("park" in x["sectors"] for x in CASES)
    assert count(size="village") == sum(x["size"] == "village" for x in CASES)
    kinki = ("三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県")
    assert count(area="近畿") == sum(bool(set(kinki) & set(x["prefectures"])) for x in CASES) == 7
    assert count(area="奈良県", type="vertical") == sum("奈良県" in x["prefectures"] and "vertical" in x["types"]
                                                       for x in CASES) == 2
    none = text(c.get(reverse("guide:cases"), {"area": "北海道", "type": "vertical"}))
    assert "条件に合う事例はありません" in none


def test_cases_like_ours_for_uda_rank_its_model_region_first_with_reasons() -> None:
    html = text(Client().get(reverse("guide:cases"), {"lg": UDA}))
    first = rows(html, "matches")[0]
    assert "奈良（宇陀市・曽爾村・御杖村・東吉野村・奈良県）" in first
    assert "同じ連携の類型" in first and "都道府県が関わる" in first and "同じ都道府県（奈良県）" in first
    assert "宇陀市は「奈良（宇陀市・曽爾村・御杖村・東吉野村・奈良県）」の構成団体です" in html
    # without the prefecture the vertical cases lose their reason
    alone = text(Client().get(reverse("guide:cases"), {"lg": UDA, "pref": "0", "sectors": "road"}))
    assert "都道府県が関わる" not in rows(alone, "matches")[0]
    found = text(Client().get(reverse("guide:cases"), {"q": "うだ"}))
    assert f"?lg={UDA}" in found


def test_start_suggests_uda_s_neighbours_with_distances() -> None:
    html = text(Client().get(reverse("guide:start"), {"lg": UDA}))
    table = rows(html, "neighbours")
    assert 3 <= len(table) <= 8
    names = [re.search(r"<label[^>]*>([^<]+)</label>", r).group(1) for r in table]  # type: ignore[union-attr]
    assert {"東吉野村", "曽爾村"} <= set(names) and names[0] == "桜井市"
    km = [float(x) for x in re.findall(r"([\d.]+) km", html)]
    assert km == sorted(km) and 9 < km[0] < 11  # 桜井市 about 10 km
    assert sum(" checked" in r.split("</td>", 1)[0] for r in table) == 3
    assert "東吉野村" in table[3] and "村" in table[3] and "人" in table[3]
    assert "ログインして群をつくる" in html and f'value="{UDA}"' in html and "奈良県が支援する" in html
    # its model region's partners, by name, one link away (御杖村 is 20 km off, beyond the eight nearest)
    assert "同じ顔ぶれ（曽爾村・御杖村・東吉野村・奈良県）で群をつくる" in html
    assert f"members={SONI}%2C{MITSUE}%2C{HIGASHIYOSHINO}&amp;prefecture=1" in html
    # a visitor pressing the button goes to the login page and comes back to the prefilled form
    url = reverse("groups:create") + f"?lead={UDA}&members={SAKURAI},{HIGASHIYOSHINO}&prefecture=1"
    response = Client().get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    assert "members%3D" in response["Location"] or "members=" in response["Location"]


def test_editor_gets_the_prefilled_form_and_creates_the_group(users) -> None:  # type: ignore[no-untyped-def]
    from gunmane.web.groups.models import Group, MemberStatus

    c = Client()
    c.force_login(users["uda"])
    html = text(c.get(reverse("guide:start"), {"lg": UDA}))
    assert "この団体で群をつくる" in html
    form = text(c.get(reverse("groups:create"), {"lead": UDA, "members": f"{SONI},{HIGASHIYOSHINO},271004,999999",
                                                 "prefecture": "1"}))
    assert re.search(r'<option value="\d+" selected>宇陀市</option>', form)
    for name in ("曽爾村", "東吉野村"):
        assert re.search(rf'value="\d+"[^>]*checked[^>]*>\s*{name}|checked[^>]*>\s*{name}', form), name
    assert "大阪市：構成団体に選べません" in form and "指定された団体：構成団体に選べません" in form
    assert 'name="prefecture_supports"' in form and re.search(r'name="prefecture_supports"[^>]*checked', form)
    # post what the form shows
    from gunmane.web.registry.models import Municipality

    pk = {m.lg_code: m.pk for m in Municipality.objects.filter(lg_code__in=[UDA, SONI, HIGASHIYOSHINO])}
    response = c.post(reverse("groups:create"), {"name": "宇陀市と近隣の群", "lead": pk[UDA],
                                                 "members": [pk[SONI], pk[HIGASHIYOSHINO]],
                                                 "prefecture_supports": "on", "collaboration_types": ["horizontal"]})
    assert response.status_code == 302
    group = Group.objects.get(name="宇陀市と近隣の群")
    status = {m.municipality.name: m.status for m in group.members.select_related("municipality")}
    assert status == {"宇陀市": MemberStatus.ACCEPTED, "曽爾村": MemberStatus.INVITED,
                      "東吉野村": MemberStatus.INVITED, "奈良県": MemberStatus.INVITED}


def test_a_signed_in_user_who_cannot_edit_gets_the_explanation(users) -> None:  # type: ignore[no-untyped-def]
    for name in ("nara", "uda-viewer"):
        c = Client()
        c.force_login(users[name])
        html = text(c.get(reverse("guide:start"), {"lg": UDA}))
        assert 'id="cannot-create"' in html and "群をつくれるのは、幹事になる市区町村の編集者です" in html
        response = c.get(reverse("groups:create"), {"lead": UDA, "members": SONI})
        assert response.status_code == 403 and "群をつくれるのは市区町村の編集者です" in response.content.decode()
    osaka = Client()
    osaka.force_login(users["osaka"])
    form = text(osaka.get(reverse("groups:create"), {"lead": UDA, "members": SONI}))
    assert "宇陀市：幹事団体には、編集できる市区町村だけを選べます" in form


def test_mechanism_helper_without_a_group() -> None:
    html = text(Client().get(reverse("guide:decisions"), {"n_members": "5", "kinds": ["city", "village"],
                                                         "prefecture": "on", "wants": ["executes_for_others"]}))
    first = rows(html, "mechanisms")[0]
    assert "事務の代替執行" in first and "本来管理者に残る" in first
    bad = text(Client().get(reverse("guide:decisions"), {"n_members": "0"}))
    assert 'id="mechanisms"' not in bad and "field-error" in bad
