"""The REST API on the demo data: tokens, the ledger under the web's rules, history, errors, imports, groups.

Each test builds the demo world once (≈10 s) and checks several things on it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import login_client
from tests.fixtures import MESSY_BRIDGES_CSV

UDA, SONI = "292125", "293857"  # 宇陀市 (uda's own), 曽爾村 (a group partner: its ledger is not uda's)


def token_for(username: str, password: str = "gunmane-demo") -> str:
    """A token made on the user's page, as a person would (the secret is on the page that made it)."""
    import re

    page = login_client(username, password).post("/accounts/tokens/", {"name": "テスト用"})
    assert page.status_code == 200
    match = re.search(r'id="token-secret">(gm-[0-9a-f]{64})<', page.content.decode())
    assert match, "the new token is shown on the page"
    return match.group(1)


def api(token: str | None = None) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}") if token else Client()


def scenario_cli_json(command: str, es: Any, group: str, tmp_path: Any, capsys: Any) -> Any:
    """What `gunmane <command> SCENARIO.toml --group GROUP` writes for a stored scenario's text."""
    from gunmane.cli import main

    path = tmp_path / "scenario.toml"
    path.write_text(es.toml, encoding="utf-8")
    capsys.readouterr()
    assert main([command, str(path), "--group", group]) == 0
    return json.loads(capsys.readouterr().out)


def body(response: Any) -> Any:
    return json.loads(response.content)


@pytest.mark.django_db
def test_token_ledger_rules_history_and_errors(demo) -> None:  # type: ignore[no-untyped-def]
    from gunmane.web.api.models import ApiToken, token_hash
    from gunmane.web.registry.models import Facility, Inspection

    token = token_for("uda")
    stored = ApiToken.objects.get(user__username="uda")
    assert stored.key_hash == token_hash(token) and token not in (stored.key_hash, stored.prefix)
    page = login_client("uda").get("/accounts/").content.decode()
    assert "テスト用" in page and stored.prefix in page and token not in page  # shown once, never again
    assert "宇陀市" in page and "奈良モデル地域" in page

    c = api(token)
    # the ledger: the user's own municipality, paginated and filtered; a partner's ledger is refused (403)
    r = c.get(f"/api/municipalities/{UDA}/facilities/", {"facility_type": "bridge", "page_size": 5})
    assert r.status_code == 200, r.content
    listed = body(r)
    assert listed["count"] == Facility.objects.filter(manager__lg_code=UDA, facility_type__code="bridge").count()
    assert len(listed["results"]) == 5 and all(f["facility_type"] == "bridge" for f in listed["results"])
    assert ApiToken.objects.get(pk=stored.pk).last_used_at is not None
    denied = c.get(f"/api/municipalities/{SONI}/facilities/")
    assert denied.status_code == 403 and "曽爾村の施設台帳を閲覧する権限がありません" in denied.content.decode()
    assert api().get(f"/api/municipalities/{UDA}/facilities/").status_code == 401
    assert api("gm-wrong").get("/api/groups/").status_code == 401
    assert c.post(f"/api/municipalities/{SONI}/facilities/", {}, content_type="application/json").status_code == 403

    # create, change, with the web's change history (who and through which path)
    new = {"facility_id": "API-1", "name": "API橋", "facility_type": "bridge", "built_year": 1975, "length_m": 12.5}
    r = c.post(f"/api/municipalities/{UDA}/facilities/", new, content_type="application/json")
    assert r.status_code == 201, r.content
    assert body(r)["sector"] == "road" and body(r)["manager"] == UDA
    r = c.patch(f"/api/municipalities/{UDA}/facilities/API-1/", {"name": "API大橋"}, content_type="application/json")
    assert r.status_code == 200 and body(r)["name"] == "API大橋"
    changes = list(Facility.history.filter(facility_id="API-1").order_by("history_id"))
    assert [h.history_type for h in changes] == ["+", "~"]
    assert all(h.history_user.username == "uda" for h in changes)
    assert changes[1].changes == {"name": ["API橋", "API大橋"]}

    # errors: Japanese, naming the field
    r = c.post(f"/api/municipalities/{UDA}/facilities/", {"facility_id": "API-1", "facility_type": "nothing"},
               content_type="application/json")
    assert r.status_code == 400
    errors = {e["field"]: e for e in body(r)["errors"]}
    assert body(r)["status"] == "invalid" and set(errors) >= {"facility_id", "name", "facility_type"}
    assert errors["facility_id"]["label"] == "施設ID" and "すでにあります" in errors["facility_id"]["message"]
    assert errors["name"]["message"].startswith("施設名: ")

    # bulk: all or nothing
    rows = [{"facility_id": f"API-B{i}", "name": f"一括{i}", "facility_type": "bridge"} for i in range(3)]
    bad = [*rows, {"facility_id": "API-B9", "name": "", "facility_type": "bridge"}]
    r = c.post(f"/api/municipalities/{UDA}/facilities/bulk/", bad, content_type="application/json")
    assert r.status_code == 400 and body(r)["errors"][0].get("index") == 3, body(r)
    assert not Facility.objects.filter(facility_id__startswith="API-B").exists()
    r = c.post(f"/api/municipalities/{UDA}/facilities/bulk/", rows, content_type="application/json")
    assert r.status_code == 201 and body(r)["created"] == 3
    dup = [{"facility_id": "API-D", "name": "重複", "facility_type": "bridge"}] * 2
    r = c.post(f"/api/municipalities/{UDA}/facilities/bulk/", dup, content_type="application/json")
    assert r.status_code == 400 and not Facility.objects.filter(facility_id="API-D").exists()

    # an inspection moves the facility's latest grade, as an import does
    r = c.post(f"/api/municipalities/{UDA}/inspections/", {"facility": "API-1", "inspected_on": "2025-06-01",
                                                            "grade": 3}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert Facility.objects.get(manager__lg_code=UDA, facility_id="API-1").latest_grade == 3
    r = c.get(f"/api/municipalities/{UDA}/inspections/", {"facility": "API-1"})
    assert [i["grade"] for i in body(r)["results"]] == [3]
    assert c.delete(f"/api/municipalities/{UDA}/inspections/{body(r)['results'][0]['id']}/").status_code == 204
    assert Facility.objects.get(manager__lg_code=UDA, facility_id="API-1").latest_grade is None
    assert not Inspection.objects.filter(facility__facility_id="API-1").exists()
    # delete as the page does (restorable from the history)
    assert c.delete(f"/api/municipalities/{UDA}/facilities/API-1/").status_code == 204
    assert Facility.history.filter(facility_id="API-1", history_type="-").get().history_change_reason == "delete"

    # a viewer reads but does not write; a revoked token stops working
    viewer = api(token_for("uda-viewer", "pw-viewer-123"))
    assert viewer.get(f"/api/municipalities/{UDA}/measures/").status_code == 200
    r = viewer.post(f"/api/municipalities/{UDA}/measures/", {}, content_type="application/json")
    assert r.status_code == 403 and "編集する権限がありません" in body(r)["errors"][0]["message"]
    assert login_client("uda").post(f"/accounts/tokens/{stored.pk}/revoke/").status_code == 302
    assert c.get("/api/groups/").status_code == 401


@pytest.mark.django_db
def test_import_groups_and_public_data(demo, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gunmane.cli import main
    from gunmane.web.groups.models import GroupMember

    token = token_for("uda")
    c = api(token)
    # the user's page and the docs page: words a person reads, no internal words (tests/words.py)
    from tests.words import internal_words, readable_text

    for url in ("/accounts/", "/api/docs/"):
        response = login_client("uda").get(url)
        assert response.status_code == 200
        kind, text = readable_text(response.content, response["Content-Type"])
        found = [f for f in internal_words(text, {UDA: "宇陀市"}) if f.match != "local_gov_vis"]  # the footer's source
        assert kind == "html" and not found, (url, found)
    # public reference data without a token
    r = api().get("/api/municipalities/", {"prefecture": "29", "kind": "village"})
    assert r.status_code == 200 and "曽爾村" in [m["name"] for m in body(r)["results"]]
    r = api().get(f"/api/municipalities/{UDA}/statistics/")
    assert r.status_code == 200 and body(r)["results"] and all(s["source"] for s in body(r)["results"])

    # an import: upload → id → status → the report, with the CLI's errors
    upload = SimpleUploadedFile("bridges.csv", MESSY_BRIDGES_CSV.encode("utf-8"), content_type="text/csv")
    r = c.post(f"/api/municipalities/{UDA}/imports/", {"kind": "facilities", "file": upload, "dry_run": "true"})
    assert r.status_code == 202, r.content
    record = c.get(f"/api/imports/{body(r)['id']}/")
    assert record.status_code == 200 and body(record)["finished"]
    report = body(record)["report"]
    path = tmp_path / "bridges.csv"
    path.write_text(MESSY_BRIDGES_CSV, encoding="utf-8")
    capsys.readouterr()
    main(["import", "facilities", str(path), "--municipality", UDA, "--format", "json", "--dry-run"])
    cli = json.loads(capsys.readouterr().out)
    assert report["errors"] == cli["errors"] and report["errors"], "the same errors as the CLI"
    assert {k: report[k] for k in ("rows", "valid", "invalid")} == {k: cli[k] for k in ("rows", "valid", "invalid")}
    r = c.post(f"/api/municipalities/{UDA}/imports/", {"kind": "bridges"})
    assert r.status_code == 400 and {e["field"] for e in body(r)["errors"]} == {"kind", "file"}
    assert api(token_for("nara")).post(f"/api/municipalities/{SONI}/imports/", {}).status_code == 403

    # groups: the user's, its members; an invitation where the web allows it
    groups = body(c.get("/api/groups/"))["results"]
    assert [g["name"] for g in groups] == [demo.name]
    members = body(c.get(f"/api/groups/{demo.pk}/members/"))["results"]
    assert UDA in [m["lg_code"] for m in members]
    r = c.post(f"/api/groups/{demo.pk}/invitations/", {"municipality": "292010"}, content_type="application/json")
    assert r.status_code == 201 and body(r)["status"] == "invited"
    assert GroupMember.objects.get(group=demo, municipality__lg_code="292010").invited_by.username == "uda"
    r = c.post(f"/api/groups/{demo.pk}/invitations/", {"municipality": "131016"}, content_type="application/json")
    assert r.status_code == 400 and body(r)["errors"][0]["field"] == "municipality"
    assert api(token_for("osaka", "pw-osaka-123")).get(f"/api/groups/{demo.pk}/").status_code == 403


@pytest.mark.django_db
def test_karte_and_effects_are_the_cli_json(demo, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """One service behind both: the API's カルテ and 効果試算 are the JSON `gunmane karte` and `gunmane effects` write."""
    from gunmane.cli import main
    from gunmane.web.groups.models import EffectScenario

    admin = api(token_for("admin"))  # the CLI is run by an operator: every figure, like the admin
    r = admin.get(f"/api/karte/{UDA}/")
    assert r.status_code == 200
    capsys.readouterr()
    assert main(["karte", UDA]) == 0
    assert body(r) == json.loads(capsys.readouterr().out)
    assert api().get("/api/karte/99/").status_code == 404
    assert api().get("/api/karte/national/").status_code == 200

    uda = api(token_for("uda"))
    r = uda.post(f"/api/groups/{demo.pk}/scenarios/", {}, content_type="application/json")
    assert r.status_code == 201, r.content
    es = EffectScenario.objects.get(pk=body(r)["id"])
    result = uda.get(f"/api/groups/{demo.pk}/scenarios/{es.pk}/result/")
    assert result.status_code == 200
    cli = scenario_cli_json("effects", es, demo.name, tmp_path, capsys)
    api_doc = body(result)
    assert api_doc.pop("scenario_file") and cli.pop("scenario_file")
    assert api_doc == cli
    # deterioration (the page's fit) and the saved districting (none yet: a 404 that says where to choose one)
    r = uda.get(f"/api/municipalities/{UDA}/deterioration/")
    assert r.status_code == 200, body(r)
    assert body(r)["facility_type"] == "bridge" and body(r)["n_pairs"] > 0, sorted(body(r))
    assert api(token_for("osaka", "pw-osaka-123")).get(f"/api/municipalities/{UDA}/deterioration/").status_code == 403
    r = uda.get(f"/api/groups/{demo.pk}/districting/")
    assert r.status_code == 404 and "地域分割" in body(r)["errors"][0]["message"]
    r = uda.post(f"/api/groups/{demo.pk}/scenarios/", {"toml": "name = 1\n[[scenario]]"},
                 content_type="application/json")
    assert r.status_code == 400 and body(r)["status"] == "invalid" and body(r)["error"]["message"]


@pytest.mark.django_db
def test_throttled_in_japanese(refdata, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Over the rate (settings' DEFAULT_THROTTLE_RATES, here made small): 429, a Japanese message, when to retry."""
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "2/minute"})
    cache.clear()
    answers = [api().get(f"/api/municipalities/{UDA}/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    doc = body(answers[2])
    assert doc["status"] == "throttled" and doc["retry_after_seconds"] > 0
    assert "秒" in doc["errors"][0]["message"], doc
    cache.clear()


@pytest.mark.django_db
def test_lots_answer_202_then_the_cli_json(demo, tmp_path, capsys, settings) -> None:  # type: ignore[no-untyped-def]
    """The lot design through the API: the job the lots page runs (202 and its state until the worker is done),
    then the JSON `gunmane lots` writes for the same scenario."""
    import tomllib

    import tomli_w

    from gunmane.web.groups import effects
    from gunmane.web.groups.models import EffectScenario
    from gunmane.web.jobs.models import Job

    uda = api(token_for("uda"))
    r = uda.post(f"/api/groups/{demo.pk}/scenarios/", {}, content_type="application/json")
    es = EffectScenario.objects.get(pk=body(r)["id"])
    doc = tomllib.loads(es.toml)
    # one search worker that stops at its first solution: the same design in both runs, however busy the machine
    doc.setdefault("lots", {}).update(time_limit_s=30, workers=1, seed=0, target_gap=1.0)
    es.toml = tomli_w.dumps(doc)
    es.save()
    url = f"/api/groups/{demo.pk}/scenarios/{es.pk}/lots/"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # the test is the worker
    waiting = uda.get(url)
    assert waiting.status_code == 202, waiting.content
    state = body(waiting)
    assert (state["status"], state["ready"], state["progress"]) == ("queued", False, 0)
    assert body(api().get(state["status_url"]))["status"] == "queued"  # the state is readable without a token
    assert uda.get(url).status_code == 202 and Job.objects.filter(kind="lots").count() == 1
    assert api(token_for("osaka", "pw-osaka-123")).get(url).status_code == 403
    effects.compute_lots.call(str(Job.objects.get(kind="lots").pk))
    done = uda.get(url)
    assert done.status_code == 200, done.content
    cli = scenario_cli_json("lots", es, demo.name, tmp_path, capsys)
    api_doc = body(done)
    assert api_doc.pop("seconds") >= 0 and cli.pop("seconds") >= 0  # the solver's own time
    assert api_doc["best"]["lots"] and api_doc["status_ja"]
    assert api_doc == cli


@pytest.mark.django_db
def test_deterioration_answers_202_while_the_worker_fits(demo, settings) -> None:  # type: ignore[no-untyped-def]
    """The fit is the 劣化予測 page's job on the task queue (a group's first fit took 20 s at scale): no API request
    computes it; the answer is 202 with the job's state, then the page's estimate."""
    from gunmane.web.analysis import lifecycle, lifecycle_views
    from gunmane.web.jobs.models import Job
    from gunmane.web.registry import frames

    frames.clear_cache()
    with lifecycle._jobs_lock:
        lifecycle._ready.clear()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # the test is the worker
    uda = api(token_for("uda"))
    url = f"/api/groups/{demo.pk}/deterioration/"
    waiting = uda.get(url)
    assert waiting.status_code == 202, waiting.content
    assert body(waiting)["status"] == "queued" and body(waiting)["status_url"]
    job = Job.objects.get(kind="deterioration_fit")
    lifecycle_views.compute_fit.call(str(job.pk))
    done = uda.get(url)
    assert done.status_code == 200, done.content
    assert body(done)["facility_type"] == "bridge" and body(done)["n_pairs"] > 0
    page = login_client("uda").get(f"/deterioration/group-{demo.pk}/")  # the page reads the same job
    assert page.status_code == 200 and Job.objects.filter(kind="deterioration_fit").count() == 1
