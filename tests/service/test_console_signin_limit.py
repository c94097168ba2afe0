"""Failed console sign-ins are limited like failed API authentication, over real HTTP: the same
limiter (``LAPOR_AUTH_FAILURE_LIMIT``, the ``limits`` package) and one count per client address
for both. Over the limit the sign-in form answers 429 with ``Retry-After`` without looking at the
key, so it cannot be used to try keys; another address is not affected."""

from __future__ import annotations

import httpx
import pytest

from tests.service.conftest import launch, make_settings
from tests.service.test_console import csrf_of

WRONG = "lt_kdeadbeef00_" + "x" * 24


@pytest.fixture(scope="module")
def limited(tmp_path_factory, model_dirs, service_log):
    url = f"sqlite:///{tmp_path_factory.mktemp('console-limited') / 'lapor.db'}"
    running = launch(make_settings(model_dirs, url, auth_failure_limit="4/minute"), service_log)
    yield running
    running.stop()


def attempt(client: httpx.Client, key: str) -> httpx.Response:
    page = client.get("/console/masuk")
    return client.post("/console/masuk", data={"api_key": key, "csrf": csrf_of(page.text)})


def test_failed_sign_ins_are_limited_and_share_the_apis_count(limited):
    with limited.client() as c:
        assert [attempt(c, WRONG).status_code for _ in range(3)] == [401] * 3
        # a failed API call from the same address is the fourth failure of the same count
        assert c.get("/v1/models", headers={"X-API-Key": WRONG}).status_code == 401
        r = attempt(c, WRONG)
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert "Terlalu banyak percobaan masuk yang gagal" in r.text and 'role="alert"' in r.text
        # over the limit even the right key is not looked at: the form cannot test keys
        r = attempt(c, limited.keys["pusat"])
        assert r.status_code == 429 and "lapor_console" not in c.cookies
        # and the API answers the address with 429 as well
        assert c.get("/v1/models", headers={"X-API-Key": WRONG}).status_code == 429
        # a valid key on the API is still served (the API's rule)
        assert c.get("/v1/models", headers=limited.headers("ds")).status_code == 200
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=limited.url, transport=transport, timeout=30) as other:
        r = attempt(other, limited.keys["pusat"])  # another address signs in
        assert r.status_code == 303 and "lapor_console" in other.cookies
