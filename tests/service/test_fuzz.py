"""Property-based fuzzing of every operation in /openapi.json (schemathesis), with valid and
invalid generated data, and explicit hostile cases over every operation (deep nesting, chunked
bodies, control characters in the path and query): never a 5xx."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from tests.service.hostile_probes import nested

slow = pytest.mark.slow  # the generated cases: one to two minutes on the shared 2-core machine


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


@slow
@schema.parametrize()
@fuzz(40)
def test_no_5xx_with_an_admin_key(case, live):
    response = case.call(headers=live.headers("admin"))
    assert response.status_code < 500, (case.method, case.path, response.text[:500])


@slow
@schema.parametrize()
@fuzz(10)
def test_no_5xx_with_an_agency_key_or_none(case, live):
    for headers in (live.headers("instansi"), {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.text[:500])


def operations(live) -> list[tuple[str, str]]:
    """(method, path with its parameters filled in) of every operation in /openapi.json."""
    spec = httpx.get(f"{live.url}/openapi.json").json()
    out = []
    for path, item in spec["paths"].items():
        for method in item:
            out.append((method.upper(), path.replace("{key_id}", "k0123456789")))
    assert len(out) >= 10
    return out


HOSTILE_BODIES = {
    "nested 500": nested(500),
    "nested 10,000": nested(10_000),
    "nested object": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "control characters": b'{"reports": [{"id": "\u0000\u001b[2J", "isi": "a\r\nb\u2028"}]}',
}


@pytest.mark.parametrize("who", ["admin", "none"])
def test_hostile_bodies_on_every_operation_are_never_5xx(live, who):
    headers = {"content-type": "application/json"}
    if who != "none":
        headers.update(live.headers(who))
    with live.client() as c:
        for method, path in operations(live):
            for name, body in HOSTILE_BODIES.items():
                r = c.request(method, path, content=body, headers=headers)
                assert r.status_code < 500, (method, path, name, r.text[:300])

                def chunks(body=body):
                    yield from (body[i : i + 1000] for i in range(0, len(body), 1000))

                r = c.request(method, path, content=chunks(), headers=headers)
                assert r.status_code < 500, (method, path, f"{name}, chunked", r.text[:300])


@pytest.mark.parametrize("char", ["%00", "%0a", "%0d", "%1b", "%7f", "%c2%85", "%e2%80%a8"])
def test_control_characters_in_path_and_query_on_every_operation_are_4xx(live, char):
    with live.client() as c:
        for method, path in operations(live):
            target = path.replace("k0123456789", f"k{char}1") if "k0123" in path else path
            for url in (f"{target}?q={char}", f"{target}?since=2024{char}&kind={char}"):
                r = c.request(method, url, headers=live.headers("admin"))
                assert 400 <= r.status_code < 500, (method, url, r.status_code, r.text[:300])
