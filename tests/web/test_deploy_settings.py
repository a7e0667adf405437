"""Production settings from the environment (docs/deployment.md) and the Content-Security-Policy.

The production tests start a fresh Python with the documented environment, because the settings are
read once at start-up: `gunmane manage check --deploy` must pass, the headers must be there, and a
missing or weak secret key must stop the server with a Japanese message.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

REPO = Path(__file__).resolve().parents[2]
HOST = "gunmane.example.lg.jp"
EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The production environment of docs/deployment.md (a fresh key, a temporary data folder)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNMANE_", "DJANGO_"))}
    env.update({
        "GUNMANE_PRODUCTION": "1",
        "GUNMANE_SECRET_KEY": secrets.token_urlsafe(50),
        "GUNMANE_ALLOWED_HOSTS": HOST,
        "GUNMANE_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "GUNMANE_BEHIND_PROXY": "1",
        "GUNMANE_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "gunmane.web.settings",
    })
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


def parse_csp(header: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in header.split(";") if part.strip())}


# -- production ---------------------------------------------------------------------------------------------
def test_check_deploy_passes_in_the_documented_production_environment(tmp_path: Path) -> None:
    result = run(["-m", "gunmane", "manage", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    # Only security.W021 (HSTS preload, the domain owner's decision; see settings) is silenced.
    assert "System check identified no issues (1 silenced)." in result.stdout, result.stdout + result.stderr


PROBE = r"""
import json, os, django
django.setup()
from django.conf import settings
from django.test import Client
from django.urls import reverse
c = Client(HTTP_HOST=os.environ["GUNMANE_ALLOWED_HOSTS"])
plain = c.get("/accounts/login/")
tls = c.get("/accounts/login/", secure=True)
proxied = c.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "proxied": proxied.status_code,
    "tls": tls.status_code,
    "headers": {k: tls.get(k) for k in ("Strict-Transport-Security", "Content-Security-Policy",
        "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy")},
    "csrf_cookie_secure": bool(tls.cookies[settings.CSRF_COOKIE_NAME]["secure"]),
    "settings": {k: getattr(settings, k, None) for k in ("DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
        "CSRF_TRUSTED_ORIGINS", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_AGE", "AXES_FAILURE_LIMIT")},
    "cooloff_minutes": settings.AXES_COOLOFF_TIME.total_seconds() / 60,
    "admin": reverse("admin:index"),
    "old_admin": c.get("/admin/", secure=True).status_code,
}))
"""


def test_production_mode_sends_the_security_headers(tmp_path: Path) -> None:
    env = production_env(tmp_path, GUNMANE_ADMIN_PATH="/kanri-7f3a/", GUNMANE_SESSION_IDLE_MINUTES="15",
                         GUNMANE_LOGIN_FAILURE_LIMIT="10", GUNMANE_LOGIN_LOCKOUT_MINUTES="60")
    result = run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["plain"] == [301, f"https://{HOST}/accounts/login/"]  # HTTP is redirected to HTTPS
    assert got["tls"] == 200 and got["proxied"] == 200  # the proxy's X-Forwarded-Proto: https is trusted
    headers = got["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert parse_csp(headers["Content-Security-Policy"]) == EXPECTED_CSP
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin" and headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert got["csrf_cookie_secure"]
    assert got["settings"] == {
        "DEBUG": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "CSRF_TRUSTED_ORIGINS": [f"https://{HOST}"], "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_AGE": 15 * 60, "AXES_FAILURE_LIMIT": 10,
    }
    assert got["cooloff_minutes"] == 60
    assert got["admin"] == "/kanri-7f3a/" and got["old_admin"] == 404


@pytest.mark.parametrize(("extra", "message"), [
    ({"GUNMANE_SECRET_KEY": ""}, "環境変数 GUNMANE_SECRET_KEY が必要ですが、未設定です"),
    ({"GUNMANE_SECRET_KEY": "django-insecure-" + "x" * 60}, "推測されやすい値です"),
    ({"GUNMANE_SECRET_KEY": "short-key"}, "短すぎるか"),
    ({"GUNMANE_DEBUG": "1"}, "GUNMANE_DEBUG=1 を使えません"),
    ({"GUNMANE_SESSION_IDLE_MINUTES": "0"}, "GUNMANE_SESSION_IDLE_MINUTES には 1 以上の整数"),
    ({"GUNMANE_ADMIN_PATH": "../admin"}, "GUNMANE_ADMIN_PATH には英数字"),
])
def test_production_refuses_to_start_unsafely(tmp_path: Path, extra: dict[str, str], message: str) -> None:
    result = run(["-c", "import gunmane.web.settings"], production_env(tmp_path, **extra))
    assert result.returncode != 0
    assert message in result.stderr.strip().splitlines()[-1], result.stderr


def test_the_server_command_refuses_without_a_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["GUNMANE_SECRET_KEY"]
    result = run(["-m", "gunmane", "manage", "check"], env)
    assert result.returncode != 0
    assert "本番モード（GUNMANE_PRODUCTION=1）では環境変数 GUNMANE_SECRET_KEY が必要です" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr  # how to make one


def test_every_setting_from_the_environment_is_documented() -> None:
    source = (REPO / "gunmane" / "web" / "settings.py").read_text()
    names = set(re.findall(r"GUNMANE_[A-Z_]+", source))
    doc = (REPO / "docs" / "deployment.md").read_text()
    assert not sorted(n for n in names if f"`{n}`" not in doc)
    assert "docs/deployment.md" in (REPO / "README.md").read_text()


# -- development (the test settings) ------------------------------------------------------------------------
def test_development_serves_plain_http_without_hsts() -> None:
    assert not settings.SECURE_SSL_REDIRECT and not settings.SECURE_HSTS_SECONDS
    assert not settings.SESSION_COOKIE_SECURE and settings.ADMIN_PATH == "admin/"


@pytest.mark.parametrize("name", ["login", "home", "admin:index", "analysis:national", "missing"])
def test_every_page_has_the_content_security_policy(name: str, users) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    if name != "login":
        client.force_login(users["admin"])
    response = client.get("/no-such-page/" if name == "missing" else reverse(name))
    assert response.status_code == (404 if name == "missing" else 200)
    assert parse_csp(response["Content-Security-Policy"]) == EXPECTED_CSP
    assert "Content-Security-Policy-Report-Only" not in response


# -- templates keep to the policy ----------------------------------------------------------------------------
WEB = REPO / "gunmane" / "web"
FORBIDDEN = {
    "style attribute": re.compile(r"""\sstyle\s*=\s*["']""", re.I),
    "inline event handler": re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "inline script": re.compile(r"""<script(?![^>]*\ssrc=)(?![^>]*type=["']application/json)[^>]*>""", re.I),
}


def test_templates_have_no_inline_script_or_style() -> None:
    """The policy blocks these in the browser; catching them here names the file and line."""
    found = []
    for path in sorted([*WEB.rglob("*.html"), *WEB.rglob("templatetags/*.py")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{path.relative_to(REPO)}:{number}: {what}" for what, rx in FORBIDDEN.items() if rx.search(line)]
    assert not found, "\n".join(found)


def test_static_scripts_do_not_write_style_attributes_as_html() -> None:
    """innerHTML with style="…" is blocked too; element.style (CSSOM) is allowed."""
    for path in (WEB / "static").rglob("*.js"):
        if "vendor" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""style=["']|setAttribute\(\s*["']style|\beval\(|new Function\(""", text), path
