"""Property-based fuzzing of every operation in /openapi.json (schemathesis), with valid and
invalid generated data: never a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

pytestmark = pytest.mark.slow  # one to two minutes on the shared 2-core machine


def fuzz(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="session")
def api_schema(live):
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    schema.config.generation.update(modes=list(GenerationMode))
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@fuzz(40)
def test_no_5xx_with_an_admin_key(case, live):
    response = case.call(headers=live.headers("admin"))
    assert response.status_code < 500, (case.method, case.path, response.text[:500])


@schema.parametrize()
@fuzz(10)
def test_no_5xx_with_an_agency_key_or_none(case, live):
    for headers in (live.headers("instansi"), {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.text[:500])
