"""The LCC comparison and the repair plan on the task queue: the page answers at once with the progress panel,
the worker computes the result once per inputs and data version, and the page then shows it (also as Excel/JSON).

Tasks run inside the request in the tests (GUNMANE_TASKS=immediate); here the dummy backend holds them so that
the test plays the worker's part.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.urls import reverse

from gunmane.web.analysis import lifecycle, lifecycle_views
from gunmane.web.demo import DEMO_GROUP
from gunmane.web.groups.models import Group
from gunmane.web.jobs import service
from gunmane.web.jobs.models import Job, JobStatus
from gunmane.web.registry import frames
from gunmane.web.registry.models import bump_data_version
from tests.conftest import login_client

pytestmark = pytest.mark.django_db
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
PLAN = reverse("analysis:plan", args=["292125"]) + "?mode=level&years=10"


def test_plan_page_waits_for_the_worker_then_shows_the_plan(demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY  # queued, and nobody runs it until the test does
    uda = login_client("uda")
    waiting = uda.get(PLAN)
    assert waiting.status_code == 202
    page = waiting.content.decode()
    job = Job.objects.get(kind="plan")
    assert job.status == JobStatus.QUEUED and job.shows_page and job.label == "宇陀市の対策計画"
    assert "宇陀市の対策計画" in page and "を計算しています" in page and "gunmane/jobs.js" in page
    assert f'data-job-status="{reverse("jobs:status", args=[job.pk])}?format=json"' in page
    assert uda.get(PLAN).status_code == 202 and Job.objects.filter(kind="plan").count() == 1  # not queued twice
    # a program asking for JSON gets the job's state as JSON, not the progress page
    asked = uda.get(PLAN + "&format=json")
    assert asked.status_code == 202 and asked["Content-Type"] == "application/json"
    assert asked.json()["status"] == JobStatus.QUEUED and asked.json()["ready"] is False
    assert uda.get(asked.json()["status_url"]).json()["progress"] == 0
    assert login_client("soni").get(PLAN).status_code == 403  # the permission comes first: no job for a stranger

    lifecycle_views.compute_lifecycle.call(str(job.pk))  # what the worker does
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and service.result_file(job) is not None
    assert "結果を表示します" in uda.get(reverse("jobs:status", args=[job.pk])).content.decode()
    shown = uda.get(PLAN)
    assert shown.status_code == 200 and "対策計画（個別施設計画の形式）" in shown.content.decode()
    # the same plan again, as Excel and JSON: the stored result, nothing computed again
    with patch.object(lifecycle_views, "_compute_lifecycle", side_effect=AssertionError("computed again")):
        assert uda.get(PLAN).status_code == 200
        assert uda.get(PLAN + "&format=xlsx")["Content-Type"].startswith("application/vnd.openxmlformats")
        assert uda.get(PLAN + "&format=json").json()["scope"] == "宇陀市"
    # other inputs are other work; a change of data is new work too
    assert uda.get(PLAN.replace("years=10", "years=5")).status_code == 202
    bump_data_version()
    assert uda.get(PLAN).status_code == 202
    newer = Job.objects.get(kind="plan", subject=job.subject)
    assert newer.pk != job.pk and newer.status == JobStatus.QUEUED and not service.result_file(job)


def test_lcc_page_and_a_failure_that_says_why(demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    uda = login_client("uda")
    url = reverse("analysis:lcc", args=["292125"]) + "?discount_rate=0.02"
    assert uda.get(url).status_code == 202
    job = Job.objects.get(kind="lcc")
    assert job.params["overrides"] == {"discount_rate": 0.02, "horizon_years": None}
    with patch.object(lifecycle_views, "_compute_lifecycle", side_effect=RuntimeError("壊れた")), \
            pytest.raises(RuntimeError):
        lifecycle_views.compute_lifecycle.call(str(job.pk))
    panel = uda.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert "計算できませんでした" in panel and "壊れた" in panel
    assert uda.get(url).status_code == 202  # asked again: queued again
    lifecycle_views.compute_lifecycle.call(str(job.pk))
    page = uda.get(url)
    assert page.status_code == 200 and page.context["result"].params.discount_rate.value == 0.02


def test_a_groups_fit_is_computed_by_the_worker_with_progress(demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    # A fit an earlier test computed in this process would be served at once, without its stages: start afresh.
    frames.clear_cache()
    with lifecycle._jobs_lock:
        lifecycle._ready.clear()
    uda = login_client("uda")
    url = reverse("analysis:deterioration", args=[f"group-{Group.objects.get(name=DEMO_GROUP).pk}"]) + "?merge_iv=1"
    waiting = uda.get(url)
    assert waiting.status_code == 202 and "の劣化予測を計算しています" in waiting.content.decode()
    job = Job.objects.get(kind="deterioration_fit")
    assert job.params == {"scope": f"group:{DEMO_GROUP}", "merge_iv": True, "pool": True}
    seen: list[tuple[int, str]] = []
    real = service.report
    with patch.object(service, "report", side_effect=lambda pk, percent, message="": (
            seen.append((percent, message)), real(pk, percent, message))):
        lifecycle_views.compute_fit.call(str(job.pk))
    # every stage of the pooled fit and the cross-validation, fold by fold, in order
    assert [p for p, _ in seen] == sorted(p for p, _ in seen) and len(seen) >= 8
    assert any("交差検証 5/5" in m for _, m in seen)
    done = uda.get(url)
    assert done.status_code == 200 and "推定したハザード" in done.content.decode()
    assert done.context["comparison"] is not None
    with patch.object(lifecycle_views, "_compute_fit", side_effect=AssertionError("computed again")):
        assert uda.get(url + "&format=json").json()["states"]
