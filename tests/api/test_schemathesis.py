"""Schemathesis against the OpenAPI schema (in process, through the WSGI app), as uda with a demo token:
no server error, and every response — data or error — valid against the schema (status code, content type, body).

Bounded: a few examples per operation, the path parameters set to the demo's own objects half the time (宇陀市,
the demo group) so that the ledger's validation is reached, not only 404s.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_api import token_for

EXAMPLES = 6
#: run the engines (seconds each): their JSON is compared with the CLI's in test_api instead
SLOW = {"/api/groups/{group_pk}/scenarios/{sid}/result/", "/api/groups/{group_pk}/karte/", "/api/karte/{scope}/",
        "/api/groups/{group_pk}/deterioration/", "/api/municipalities/{lg_code}/deterioration/"}


@pytest.mark.django_db
def test_schemathesis(demo) -> None:  # type: ignore[no-untyped-def]
    import schemathesis
    from django.core.wsgi import get_wsgi_application
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    headers = {"Authorization": f"Bearer {token_for('uda')}"}
    own = {"lg_code": "292125", "group_pk": str(demo.pk)}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    started, operations = time.monotonic(), 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SLOW:
            continue
        operations += 1

        @given(case=operation.as_strategy(), use_own=st.booleans())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case, use_own: bool) -> None:  # type: ignore[no-untyped-def]
            if use_own:
                for key, value in own.items():
                    if key in (case.path_parameters or {}):
                        case.path_parameters[key] = value
            case.call_and_validate(headers=headers, checks=checks)

        run()
    assert operations >= 20
    assert time.monotonic() - started < 120
