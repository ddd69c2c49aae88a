"""Schemathesis over /api/v1/openapi.json, on SQLite and on PostgreSQL (whichever this
run uses): generated requests to every operation, as a city leader's app and as a
resident's; no server error, every response (errors included) matches the schema,
its status is declared and its content type is the declared one.

Bounded: MAX_EXAMPLES per operation and caller; Hypothesis keeps no example database
(tests write only under build folders)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from linge.clients import keys
from linge.clients.models import Channel
from tests.workbench.conftest import report

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


@pytest.fixture
def keep_connection():
    """Schemathesis calls the WSGI application itself: keep the test's connection (and
    its transaction) open across requests, as Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.django_db
def test_every_operation_conforms(city, keep_connection) -> None:
    from linge.wsgi import application

    report(city)  # a case to find
    callers = {
        persona: keys.create(persona, channels=[Channel.API], rate_per_minute=100_000,
                             user=city[persona]).key
        for persona in ("leader", "resident")
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    def runner(operation, key: str):
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
        return run

    for operation in operations:
        for persona, key in callers.items():
            try:
                runner(operation, key)()
            except Exception as error:  # noqa: BLE001 - collected, all reported at the end
                failures.append(f"{operation.label} as {persona}: {error}")
    assert not failures, "\n\n".join(failures)
