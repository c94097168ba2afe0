"""The load script: its wrk output parser, its Lua bodies, and a tiny run over real HTTP against
the service (tiny models, loopback). Counts and errors are checked, never speed."""

from __future__ import annotations

import json

import pytest

from lapor_triage.evaluation import load_client, load_test, load_wrk
from tests.service.conftest import launch, make_settings
from tests.service.tiny_models import train_tiny_models

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:8000/v1/reports/triage
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    27.51ms    8.02ms  77.70ms   71.20%
    Req/Sec     1.87k   120.33     2.10k    70.00%
  Latency Distribution
     50%   35.00ms
     75%   40.10ms
     90%   47.33ms
     99%  954.00us
  18683 requests in 10.02s, 20.11MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   1864.58
Transfer/sec:      2.01MB
"""


def test_parse_wrk_reads_counts_errors_and_percentiles():
    requests, errors, seconds, pct = load_wrk.parse_wrk(WRK_OUTPUT)
    assert requests == 18683
    assert errors == 4 + 2 + 1
    assert seconds == pytest.approx(10.02)
    assert pct[50] == pytest.approx(35.0)
    assert pct[99] == pytest.approx(0.954)  # microseconds converted
    assert pct[100] == pytest.approx(77.7)  # the maximum


def test_lua_strings_hold_any_body():
    body = json.dumps({"isi": "a ]] b ]=] c"}).encode()
    lua = load_wrk._lua_string(body)
    level = lua.index("[", 1)  # the opening bracket is "[" + "=" * n + "["
    closing = "]" + "=" * (level - 1) + "]"
    assert lua.endswith(closing) and closing not in lua[level + 1 : -len(closing)]


def test_bodies_are_varied_reports():
    texts = [f"Laporan nomor {i} tentang jalan rusak di kampung {i}." for i in range(300)]
    bodies = load_client.make_bodies(texts, 1)
    assert len(bodies) == load_client.N_BODIES
    isi = {json.loads(b)["reports"][0]["isi"] for b in bodies}
    assert len(isi) > 100  # not one text repeated


@pytest.fixture(scope="module")
def tiny_service(tmp_path_factory):
    models = train_tiny_models(tmp_path_factory.mktemp("load-models"))
    db = tmp_path_factory.mktemp("load-db") / "load.db"
    log = tmp_path_factory.mktemp("load-log") / "service.log"
    live = launch(make_settings(models, f"sqlite:///{db}", reload_poll_seconds=0.2), log)
    yield live
    live.stop()


def test_a_small_run_against_the_service_has_no_errors(tiny_service, tmp_path, capsys):
    out = tmp_path / "rows.json"
    code = load_test.main(
        [
            "--url",
            tiny_service.url,
            "--key",
            tiny_service.keys["admin"],
            "--clients",
            "5",
            "--requests",
            "40",
            "--batch",
            "10",
            "--batch-clients",
            "2",
            "--batches",
            "6",
            "--seconds",
            "20",
            "--reloads",
            "1",
            "--json",
            str(out),
        ]  # fmt: skip
    )
    assert code == 0
    rows = json.loads(out.read_text())
    assert [r["phase"] for r in rows] == [
        "single x5 clients",
        "batch of 10 x2 clients",
        "single x5 + 1 reloads",
    ]
    assert [r["requests"] for r in rows[:2]] == [40, 6]
    assert rows[2]["requests"] >= 40  # the load goes on until the reloads are done
    assert all(r["errors"] == 0 for r in rows)
    assert "reloads: 200/gen" in rows[2]["note"]
    assert "1 worker(s) on reload" in rows[2]["note"] and "NOT" not in rows[2]["note"]
    assert "targets:" in capsys.readouterr().out


def test_disposition_check_stops_a_service_without_the_model(tiny_service):
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(tiny_service.url)
    with pytest.raises(SystemExit, match="without disposition"):
        asyncio.run(
            load_test.check_disposition(
                parts.hostname, parts.port, tiny_service.keys["admin"], "Jalan rusak di Semarang"
            )
        )


def test_disposition_check_passes_when_the_model_is_served(tmp_path_factory):
    import asyncio
    from urllib.parse import urlsplit

    from tests.service.tiny_models import train_tiny_disposition

    root = tmp_path_factory.mktemp("load-disp")
    models = train_tiny_models(root)
    settings = make_settings(
        models, f"sqlite:///{root / 'load.db'}", disposition_model_dir=train_tiny_disposition(root)
    )
    live = launch(settings, root / "service.log")
    try:
        parts = urlsplit(live.url)
        asyncio.run(  # no SystemExit: the answer carries disposition
            load_test.check_disposition(
                parts.hostname, parts.port, live.keys["admin"], "Lampu PJU di Semarang mati"
            )
        )
    finally:
        live.stop()


def test_disposition_model_folder_must_exist(tmp_path):
    with pytest.raises(SystemExit, match="no such folder"):
        load_test.main(["--disposition-model", str(tmp_path / "missing")])
