"""Shared fixtures: reference data in the test database, demo users, messy ledger files.

PostgreSQL tests (marker `postgres`) and browser tests (marker `browser`) are skipped with a
visible reason when their server or browser is missing — except under CI (env CI set), where a
missing prerequisite fails the test (not an xfail, which would pass the run).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.db import connection

    in_ci = bool(os.environ.get("CI"))
    for item in items:
        reason = None
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            reason = "PostgreSQL のテストには GUNMANE_TEST_DATABASE_URL（PostgreSQL サーバー）が必要です"
        elif item.get_closest_marker("browser") and not CHROMIUM.exists():
            reason = "ブラウザのテストには /usr/bin/chromium が必要です（apt-get install chromium）"
        if reason is None:
            continue
        if in_ci:  # under CI a missing prerequisite is a failure, never a quiet skip or xfail
            item.add_marker(pytest.mark.missing_prerequisite(reason))
            item.fixturenames.insert(0, "_fail_for_missing_prerequisite")
        else:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _fail_for_missing_prerequisite(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("missing_prerequisite")
    pytest.fail(f"CI: {marker.args[0] if marker else '前提が欠けています'}", pytrace=False)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Real reference data (1,788 local governments, FY2020–2024 statistics) in every test database."""
    from gunmane.web.registry.refdata import load_reference_data

    with django_db_blocker.unblock():
        load_reference_data()


#: fixtures whose test empties the database afterwards (Django's TransactionTestCase flush)
_FLUSHING = {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a test that flushed the database (live server, transactional), put the reference data back at once,
    outside any test's transaction: with pytest-xdist the next test of the worker can be any file's, and every
    test may assume the 1,788 local governments are there (as after django_db_setup)."""
    yield
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    if not (fixtures & _FLUSHING or (marker is not None and marker.kwargs.get("transaction"))):
        return
    from django.db import DatabaseError
    from pytest_django.plugin import blocking_manager_key

    # a test that restored or switched databases (backup/restore) leaves nothing to fill: `refdata` reloads later
    with item.config.stash[blocking_manager_key].unblock(), contextlib.suppress(DatabaseError):
        ensure_reference_data()


def ensure_reference_data() -> None:
    """Reload the reference data if a transactional test before flushed it (module-scoped fixtures that
    build one demo world for a whole file run after whatever test the worker ran before them)."""
    from gunmane.web.registry.models import Municipality
    from gunmane.web.registry.refdata import load_reference_data

    if not Municipality.objects.exists():
        load_reference_data()


@pytest.fixture
def refdata(db):  # type: ignore[no-untyped-def]
    """Reference data, reloaded when a transactional test flushed it."""
    from gunmane.web.registry.models import Municipality
    from gunmane.web.registry.refdata import load_reference_data

    if not Municipality.objects.exists():
        load_reference_data()


@pytest.fixture
def users(refdata):  # type: ignore[no-untyped-def]
    """The demo logins: uda/soni/mitsue/higashiyoshino (editors), nara (prefecture viewer), admin."""
    from django.contrib.auth import get_user_model

    from gunmane.web.demo import create_demo_users

    create_demo_users()
    User = get_user_model()
    viewer = User.objects.create_user("uda-viewer", password="pw-viewer-123")
    from gunmane.web.accounts.models import Membership, Role
    from gunmane.web.registry.models import Municipality

    Membership.objects.create(user=viewer, municipality=Municipality.objects.get(lg_code="292125"), role=Role.VIEWER)
    outsider = User.objects.create_user("osaka", password="pw-osaka-123")
    Membership.objects.create(user=outsider, municipality=Municipality.objects.get(lg_code="271004"),
                              role=Role.EDITOR)
    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def demo(users):  # type: ignore[no-untyped-def]
    """The demo region's synthetic ledger and the demo group (奈良モデル地域), with fresh analysis caches."""
    from gunmane.web.demo import DEMO_GROUP, create_demo_group, load_demo_ledger
    from gunmane.web.groups.models import Group
    from gunmane.web.registry import frames

    frames.clear_cache()
    load_demo_ledger()
    create_demo_group()
    yield Group.objects.get(name=DEMO_GROUP)
    frames.clear_cache()


def login_client(username: str = "uda", password: str = "gunmane-demo"):  # type: ignore[no-untyped-def]
    """A Django test client logged in as a demo user (the login must succeed)."""
    from django.test import Client

    c = Client()
    assert c.login(username=username, password=password)
    return c


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Uploads go to a temporary folder; a fast password hasher (Django's advice for test suites)."""
    media = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = media
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield
    shutil.rmtree(media, ignore_errors=True)


@pytest.fixture(autouse=True)
def _client_login_has_a_request(monkeypatch):  # type: ignore[no-untyped-def]
    """django-axes (login lockout) refuses authenticate() without the request, to count failures per
    address; Django's test Client.login() passes none. Give it an empty request (no address), so tests
    log in as the login page does and the lockout stays on and strict everywhere else."""
    from django.http import HttpRequest
    from django.test import Client

    original = Client.login

    def login(self, **credentials):  # type: ignore[no-untyped-def]
        credentials.setdefault("request", HttpRequest())
        return original(self, **credentials)

    monkeypatch.setattr(Client, "login", login)
