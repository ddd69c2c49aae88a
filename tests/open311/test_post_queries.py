"""What one Open311 POST costs in SQL statements: an upper bound that fails when someone
adds a query to the path (as tests/resident/test_report_queries.py does for /report)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from linge.cases.models import Case
from linge.clients import keys
from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=True)

# SQLite: the key's row, its rate-limit window, the service (category), its extra
# questions, the grid, BEGIN IMMEDIATE, the grid's village/town/team, SAVEPOINT (intake
# inside the view's transaction), case number, case, recipients, chain head, event,
# head, outbox, RELEASE, the token (Submission), COMMIT = 18.
# PostgreSQL: the same, but event, outbox and head are one statement = 16. (The view's
# transaction holds the token and the case together, so the case number is drawn
# inside it here, not before BEGIN as on /report.)
BUDGET = {"sqlite": 18, "postgresql": 16}


def test_an_open311_post_stays_within_its_statement_budget(city: City) -> None:
    key = keys.create("budget", rate_per_minute=1000).key
    client = Client(REMOTE_ADDR="198.51.100.7")
    data = {"api_key": key, "service_code": city.plain.code, "description": "路口垃圾堆了三天",
            "lat": "28.305", "long": "121.305"}
    assert client.post("/open311/v2/requests.json", data).status_code == 201  # warm caches
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/open311/v2/requests.json", data)
    assert response.status_code == 201
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= BUDGET[connection.vendor], "\n".join(statements)
    assert Case.objects.count() == 2
