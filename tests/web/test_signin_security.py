"""Sign-in security (issue #11 §4): lockout after repeated failures, per user and address, the Japanese
lockout page, unlocking by an admin, and the idle timeout of a session.

Logins go through the real login form (client.post), as a browser would: that is the path django-axes
watches, with the client address it counts failures against.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gunmane.web.accounts.admin import is_login_locked

PASSWORD = "gunmane-demo"
OFFICE = "203.0.113.10"  # one NAT address for a whole municipal office
ELSEWHERE = "198.51.100.7"
LOCKED_TITLE = "ログインに続けて失敗したため、一時的にロックしました。"
LOCKED_ADVICE = "30分後にもう一度試すか、管理者に解除を依頼してください。"


def sign_in(client: Client, username: str, password: str, ip: str = OFFICE):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    """Whether the client's session is a logged-in one (the import history needs a login; the home page is
    public since #13)."""
    return client.get(reverse("registry:import_list")).status_code == 200


def lock(username: str = "uda", ip: str = OFFICE) -> Client:
    """Fail AXES_FAILURE_LIMIT times from one address; the last failure already shows the lockout."""
    client = Client()
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = sign_in(client, username, "wrong-password", ip)
        if attempt < settings.AXES_FAILURE_LIMIT:
            assert response.status_code == 200 and "ユーザー名またはパスワードが正しくありません" in response.content.decode()
    assert response.status_code == 429
    return client


def test_the_defaults_are_five_failures_and_thirty_minutes() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_repeated_failures_lock_the_user_and_the_right_password_then_fails(users) -> None:  # type: ignore[no-untyped-def]
    client = lock("uda")
    response = sign_in(client, "uda", PASSWORD)
    page = response.content.decode()
    assert response.status_code == 429
    assert LOCKED_TITLE in page and LOCKED_ADVICE in page
    assert '<html lang="ja">' in page and "<title>ログインを一時的にロックしました" in page
    assert not signed_in(client)
    assert is_login_locked("uda")


def test_four_failures_then_the_right_password_still_signs_in_and_clears_the_count(users) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "uda", "wrong-password")
    assert sign_in(client, "uda", PASSWORD).status_code == 302
    assert signed_in(client)
    # AXES_RESET_ON_SUCCESS: a success starts the count again, so a later typo does not lock at once.
    client.post(reverse("logout"))
    assert sign_in(Client(), "uda", "wrong-password").status_code == 200


def test_a_colleague_behind_the_same_office_address_is_not_locked(users) -> None:  # type: ignore[no-untyped-def]
    lock("uda", OFFICE)
    colleague = Client()
    assert sign_in(colleague, "soni", PASSWORD, OFFICE).status_code == 302
    assert signed_in(colleague)


def test_an_outsider_cannot_lock_a_user_out_from_another_address(users) -> None:  # type: ignore[no-untyped-def]
    lock("uda", ELSEWHERE)
    at_the_office = Client()
    assert sign_in(at_the_office, "uda", PASSWORD, OFFICE).status_code == 302
    assert signed_in(at_the_office)


def test_the_lock_ends_after_the_cool_off(users) -> None:  # type: ignore[no-untyped-def]
    lock("uda")
    AccessAttempt.objects.filter(username="uda").update(attempt_time=timezone.now() - timedelta(minutes=31))
    client = Client()
    assert sign_in(client, "uda", PASSWORD).status_code == 302


def test_a_try_while_locked_restarts_the_wait(users) -> None:  # type: ignore[no-untyped-def]
    lock("uda")
    AccessAttempt.objects.filter(username="uda").update(attempt_time=timezone.now() - timedelta(minutes=29))
    assert sign_in(Client(), "uda", PASSWORD).status_code == 429
    AccessAttempt.objects.filter(username="uda").update(attempt_time=timezone.now() - timedelta(minutes=29))
    assert sign_in(Client(), "uda", PASSWORD).status_code == 429  # 58 minutes after the lock


def test_an_admin_unlocks_a_user_in_the_user_admin(users) -> None:  # type: ignore[no-untyped-def]
    lock("uda")
    admin = Client()
    admin.force_login(users["admin"])
    changelist = reverse("admin:auth_user_changelist")
    listing = admin.get(changelist).content.decode()
    assert "ログインのロック" in listing and "選択した利用者のログインのロックを解除する" in listing
    response = admin.post(changelist, {"action": "unlock_login", "_selected_action": [users["uda"].pk]}, follow=True)
    assert "1 人のログインのロックを解除しました" in response.content.decode()
    assert not is_login_locked("uda")
    client = Client()
    assert sign_in(client, "uda", PASSWORD).status_code == 302 and signed_in(client)


def test_an_admin_unlocks_by_deleting_the_access_attempt(users) -> None:  # type: ignore[no-untyped-def]
    lock("uda")
    admin = Client()
    admin.force_login(users["admin"])
    attempt = AccessAttempt.objects.get(username="uda")
    admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert sign_in(Client(), "uda", PASSWORD).status_code == 302


def test_the_documented_command_unlocks(users) -> None:  # type: ignore[no-untyped-def]
    lock("uda")
    call_command("axes_reset_username", "uda", stdout=mock.MagicMock())
    assert sign_in(Client(), "uda", PASSWORD).status_code == 302


def test_a_locked_admin_cannot_sign_in_to_the_admin_either(users) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    admin_login = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(admin_login, {"username": "admin", "password": "wrong"}, REMOTE_ADDR=OFFICE)
    assert response.status_code == 429 and LOCKED_TITLE in response.content.decode()
    response = client.post(admin_login, {"username": "admin", "password": PASSWORD}, REMOTE_ADDR=OFFICE)
    assert response.status_code == 429


def test_behind_a_proxy_the_address_is_the_one_the_proxy_added(users, settings) -> None:  # type: ignore[no-untyped-def]
    """The browser controls the start of X-Forwarded-For; only the last entry (the proxy's) counts."""
    settings.BEHIND_PROXY = True
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        # A forged, changing first entry must not reset the count.
        client.post(reverse("login"), {"username": "uda", "password": "wrong"},
                    REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, {ELSEWHERE}")
    assert AccessAttempt.objects.get(username="uda").ip_address == ELSEWHERE
    forged = Client().post(reverse("login"), {"username": "uda", "password": PASSWORD},
                           REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"{OFFICE}, {ELSEWHERE}")
    assert forged.status_code == 429
    office = Client().post(reverse("login"), {"username": "uda", "password": PASSWORD},
                           REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OFFICE)
    assert office.status_code == 302


# -- idle timeout -----------------------------------------------------------------------------------------
@pytest.fixture
def clock() -> Iterator[list[timedelta]]:
    """Moves Django's clock (sessions read timezone.now()) forward by clock[0]."""
    real_now = timezone.now
    offset = [timedelta(0)]
    with mock.patch("django.utils.timezone.now", side_effect=lambda: real_now() + offset[0]):
        yield offset


def test_an_idle_session_is_signed_out(users, clock) -> None:  # type: ignore[no-untyped-def]
    assert settings.SESSION_COOKIE_AGE == 60 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    client = Client()
    response = sign_in(client, "uda", PASSWORD)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 3600
    assert signed_in(client)
    clock[0] = timedelta(minutes=61)
    response = client.get(reverse("registry:import_list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_activity_keeps_the_session_alive(users, clock) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    sign_in(client, "uda", PASSWORD)
    for minutes in (50, 100, 150):  # never 60 minutes without a request, 2.5 hours in all
        clock[0] = timedelta(minutes=minutes)
        assert signed_in(client), minutes
    clock[0] = timedelta(minutes=150 + 61)
    assert not signed_in(client)
