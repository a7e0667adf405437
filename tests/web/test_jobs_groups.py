"""The 効果試算 result, the lot design and the ledger export on the task queue: the page answers at once with
the progress panel, the worker computes once per inputs and data version, and the page (or file) then comes
from the stored result.

Tasks run inside the request in the other tests (GUNMANE_TASKS=immediate); here the dummy backend holds them so
that the test plays the worker's part.
"""

from __future__ import annotations

import tomllib
from unittest.mock import patch

import pytest
import tomli_w
from django.test import Client
from django.urls import reverse

from gunmane.web.groups import effects, views, views_districts, views_effects
from gunmane.web.groups.models import EffectScenario, GeneratedDocument, SavedDistricting
from gunmane.web.jobs import service
from gunmane.web.jobs.models import Job, JobStatus
from gunmane.web.registry import views as registry_views
from gunmane.web.registry.models import bump_data_version
from tests.conftest import login_client

pytestmark = pytest.mark.django_db
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def test_effects_result_waits_for_the_worker_then_shows_the_stored_result(demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    es = EffectScenario.objects.filter(group=demo).order_by("pk").first()
    url = reverse("groups:effects_result", args=[demo.pk, es.pk])
    uda = login_client("uda")
    waiting = uda.get(url)
    assert waiting.status_code == 202
    job = Job.objects.get(kind="effects")
    assert job.status == JobStatus.QUEUED and job.shows_page and job.params == {"scenario": es.pk, "sensitivity": False}
    assert f"効果試算「{es.name}」を計算しています" in waiting.content.decode()
    assert uda.get(url + "?format=toml").status_code == 200  # the stored text needs no computation
    assert Client().get(url).status_code == 302  # permission first
    assert Job.objects.filter(kind="effects").count() == 1

    seen: list[str] = []
    real = service.report
    with patch.object(service, "report", side_effect=lambda pk, percent, message="": (
            seen.append(message), real(pk, percent, message))):
        views_effects.compute_effects.call(str(job.pk))  # what the worker does
    assert any("手段ごとに分けています" in m for m in seen)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    # the page, another scenario's waterfall and the Excel: all from the stored result, nothing computed again
    with patch.object(effects, "evaluate", side_effect=AssertionError("computed again")):
        shown = uda.get(url)
        assert shown.status_code == 200 and shown.context["steps"] and 'id="effects-xlsx"' in shown.content.decode()
        assert uda.get(url + "?scenario=1").status_code == 200
        assert uda.get(url + "?format=xlsx")["Content-Type"].startswith("application/vnd.openxmlformats")
    # the sensitivity is other work; an edit of the scenario is new work and the old job is forgotten
    assert uda.get(url + "?sensitivity=1").status_code == 202
    doc = tomllib.loads(es.toml)
    doc["name"] = "別の名前"
    es.toml = tomli_w.dumps(doc)
    es.save()
    assert uda.get(url).status_code == 202
    assert not Job.objects.filter(pk=job.pk).exists() and Job.objects.filter(kind="effects").count() == 2


def test_saving_a_scenario_answers_at_once_and_the_overview_shows_the_same_job(demo, settings) -> None:  # type: ignore[no-untyped-def]
    """The save checks the text only; the evaluation is the worker's, and the group overview's summary reads the
    very job the result page shows (「計算中」 with its progress until then)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.TASKS = DUMMY
    es = EffectScenario.objects.filter(group=demo).order_by("pk").first()
    uda = login_client("uda")
    result_url = reverse("groups:effects_result", args=[demo.pk, es.pk])
    overview_url = reverse("groups:overview", args=[demo.pk])
    with patch.object(effects, "evaluate", side_effect=AssertionError("computed in the request")):
        saved = uda.post(reverse("groups:effects_edit", args=[demo.pk, es.pk]),
                         {"toml_file": SimpleUploadedFile("s.toml", es.toml.encode())})
        assert saved.status_code == 302 and saved["Location"] == result_url
        waiting = uda.get(overview_url).content.decode()
        assert uda.get(result_url).status_code == 202
    job = Job.objects.get(kind="effects")  # one job for both pages
    assert "計算中" in waiting and f'data-job-status="{reverse("jobs:status", args=[job.pk])}?format=json"' in waiting
    assert "gunmane/jobs.js" in waiting and "順番を待っています" in waiting
    views_effects.compute_effects.call(str(job.pk))
    with patch.object(effects, "evaluate", side_effect=AssertionError("computed again")):
        shown = uda.get(overview_url).content.decode()
    summary = effects.summary_of(service.value(Job.objects.get(pk=job.pk))["ev"].result, es.chosen_index)
    assert summary.scenario_name in shown and "計算中" not in shown and "gunmane/jobs.js" not in shown
    assert f"職員時間 {summary.baseline_staff_hours:,.0f} → {summary.scenario_staff_hours:,.0f} 時間" in shown


def test_lot_design_and_its_map_files_come_from_the_worker(demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    es = EffectScenario.objects.filter(group=demo).order_by("pk").first()
    doc = tomllib.loads(es.toml)
    doc.setdefault("lots", {})["time_limit_s"] = 5
    es.toml = tomli_w.dumps(doc)
    es.save()
    page = reverse("groups:effects_lots", args=[demo.pk, es.pk])
    kml = reverse("groups:effects_lots_geo", args=[demo.pk, es.pk, "kml"])
    uda = login_client("uda")
    assert uda.get(page).status_code == 202  # before a run the page needs the evaluation: queued
    waiting = uda.get(page + "?run=1")
    assert waiting.status_code == 202 and "ロット設計を計算しています" in waiting.content.decode()
    assert uda.get(kml).status_code == 202  # the map file waits for the same design
    job = Job.objects.get(kind="lots")
    views_effects.compute_lots.call(str(job.pk))
    with patch.object(effects, "design_lots", side_effect=AssertionError("designed again")):
        shown = uda.get(page + "?run=1")
        assert shown.status_code == 200 and shown.context["design"] is not None
        assert 'id="lots-map"' in shown.content.decode()
        assert uda.get(kml)["Content-Type"].startswith("application/vnd.google-earth.kml+xml")
    assert Job.objects.filter(kind="lots").count() == 1


def test_ledger_export_is_made_once_per_data_version(demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    url = reverse("registry:export", args=["292125", "facilities", "xlsx"])
    uda = login_client("uda")
    waiting = uda.get(url)
    assert waiting.status_code == 202 and "宇陀市の施設台帳の書き出し" in waiting.content.decode()
    assert Client().get(url).status_code == 302  # the ledger's rule first: no job for a stranger
    job = Job.objects.get(kind="ledger_export")
    assert job.filename == "292125_宇陀市_施設.xlsx" and job.label == "宇陀市の施設台帳（Excel）"
    registry_views.make_export.call(str(job.pk))
    with patch.object(registry_views.ledger_export, "to_bytes_xlsx", side_effect=AssertionError("made again")):
        got = uda.get(url)
        assert got.status_code == 200 and got["Content-Type"].startswith("application/vnd.openxmlformats")
        assert got.content[:2] == b"PK"
    assert uda.get(url.replace(".xlsx", ".csv")).status_code == 202  # another format: another file
    bump_data_version()
    assert uda.get(url).status_code == 202  # new data: made again, the old file removed
    assert not Job.objects.filter(pk=job.pk).exists() and service.result_file(job) is None


def test_a_districting_run_and_its_files_come_from_the_worker(demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    query = "mode=single&d=100&bundle_limit=5&q_source=value&q=0.05&time_limit=3"
    url = reverse("groups:districts", args=[demo.pk])
    uda = login_client("uda")
    assert uda.get(url).status_code == 200  # the form alone computes nothing
    waiting = uda.get(f"{url}?run=1&{query}")
    assert waiting.status_code == 202 and "の地域分割を計算しています" in waiting.content.decode()
    posted = uda.post(url, {**dict(x.split("=") for x in query.split("&")), "run": "1"})
    assert posted.status_code == 302 and "run=1" in posted["Location"]  # a POST goes on as the run's address
    geo = reverse("groups:districts_file", args=[demo.pk, "geojson"]) + "?" + query
    assert uda.get(geo).status_code == 202
    job = Job.objects.get(kind="districts")
    assert job.params["group"] == demo.pk and job.params["query"]["d"] == "100"
    views_districts.compute_districts.call(str(job.pk))
    with patch.object(views_districts.solving, "solve", side_effect=AssertionError("solved again")):
        shown = uda.get(f"{url}?run=1&{query}")
        assert shown.status_code == 200 and shown.context["result"].regions
        assert uda.get(geo).json()["type"] == "FeatureCollection"
        used = uda.post(reverse("groups:districts_use", args=[demo.pk]), {**dict(x.split("=") for x in query.split("&"))})
        assert used.status_code == 302 and SavedDistricting.objects.filter(group=demo).exists()
    assert Job.objects.filter(kind="districts").count() == 1


def test_a_group_document_is_made_by_the_worker(demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    url = reverse("groups:documents", args=[demo.pk])
    uda = login_client("uda")
    asked = uda.post(url, {"kind": "policy", "file_format": "docx"})
    job = Job.objects.get(kind="group_document")
    assert asked.status_code == 302 and asked["Location"] == f"{url}?job={job.pk}"
    assert not GeneratedDocument.objects.filter(group=demo).exists()  # nothing made in the request
    page = uda.get(asked["Location"]).content.decode()
    assert 'id="document-job"' in page and "実施方針（Word）を作成しています" in page and "gunmane/jobs.js" in page
    views.make_document.call(str(job.pk))
    doc = GeneratedDocument.objects.get(group=demo)
    assert (doc.kind, doc.file_format, doc.version) == ("policy", "docx", 1) and doc.inputs["author_ja"]
    done = uda.get(asked["Location"]).content.decode()
    assert 'id="document-job"' not in done and reverse("groups:document", args=[demo.pk, doc.pk]) in done
    # a document that contradicts itself: the worker's refusal is shown in Japanese, as it is
    uda.post(url, {"kind": "agreement", "file_format": "pdf"})
    job = Job.objects.get(kind="group_document", subject__contains="agreement")
    with patch.object(views, "generate", side_effect=views.DocumentCheckError("協定書", ["負担割合の合計が100%になりません。"])), \
            pytest.raises(service.Refused):
        views.make_document.call(str(job.pk))
    shown = uda.get(f"{url}?job={job.pk}").content.decode()
    assert "作成できませんでした" in shown and "負担割合の合計が100%になりません。" in shown


def test_the_documents_page_reads_the_effect_figures_from_the_evaluation_job(demo, settings) -> None:  # type: ignore[no-untyped-def]
    """The documents page states the scenario's period, shares and amounts: it reads them from the evaluation job
    (「計算しています」 with the job's progress until then), never evaluating in the request — and once the job is
    done the page's figures are the ones a document made by the worker states."""
    from gunmane.web.groups.documents import document_input

    settings.TASKS = DUMMY
    url = reverse("groups:documents", args=[demo.pk])
    uda = login_client("uda")
    with patch.object(effects, "evaluate", side_effect=AssertionError("computed in the request")):
        waiting = uda.get(url).content.decode()
    job = Job.objects.get(kind="effects")
    es = EffectScenario.objects.get(pk=job.params["scenario"])
    assert f"効果試算「{es.name}」を計算しています" in waiting and 'id="effect-job"' in waiting
    assert f'data-job-status="{reverse("jobs:status", args=[job.pk])}?format=json"' in waiting
    assert "gunmane/jobs.js" in waiting and 'id="document-shares"' not in waiting
    views_effects.compute_effects.call(str(job.pk))
    with patch.object(effects, "evaluate", side_effect=AssertionError("computed again")):
        shown = uda.get(url)
    page = shown.content.decode()
    assert 'id="effect-job"' not in page and 'id="document-shares"' in page and "gunmane/jobs.js" not in page
    worker = document_input(demo)  # what the worker's document states (evaluated there)
    inp = shown.context["inp"]
    assert inp.effects == worker.effects and inp.schedule == worker.schedule and inp.lots == worker.lots
    assert f"（効果試算「{worker.effects.scenario_name}」の期間）" in page
