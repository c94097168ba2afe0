"""The hostile-input probes of issue 9 (part 2 and the service items of part 3), run against a
real server: ``python -m tests.service.hostile_probes [--attempts 2]``.

Not a test (the tests are in ``test_hostile_input.py``): it starts the test service (tiny models)
on SQLite and, when it answers, on PostgreSQL, sends each probe ``--attempts`` times per backend
and prints a table *probe | attempts | failures*, plus the latency of one small triage request
queued behind a large one (a figure, not a pass/fail)."""

from __future__ import annotations

import argparse
import json
import logging
import select
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from lapor_triage.service.settings import Settings
from tests.service.conftest import (
    AGENCY,
    OTHER_AGENCY,
    PG_URL,
    Live,
    launch,
    make_settings,
    postgres_available,
)
from tests.service.tiny_models import train_tiny_models

REPORT = {"id": "1", "judul": "Jalan rusak", "isi": "Jalan berlubang di Jalan Kenanga."}


def chunked_upload(
    url: str, path: str, headers: dict[str, str], total: int, chunk: int = 256 * 1024
) -> tuple[int | None, int, str]:
    """POST ``total`` bytes with ``Transfer-Encoding: chunked`` on a raw socket, stopping as soon
    as the server answers: (status or None, bytes sent before the answer, response head)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTransfer-Encoding: chunked\r\n"
    head += "Content-Type: application/json\r\n"
    for name, value in headers.items():
        head += f"{name}: {value}\r\n"
    sock.sendall((head + "\r\n").encode())
    data = b'{"reports": [{"id": "1", "isi": "' + b"a" * (chunk - 40)
    sent = 0
    answer = b""
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            piece = data if sent == 0 else b"a" * chunk
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            sent += len(piece)
        else:
            sock.sendall(b'"}]}'.join([b"4\r\n", b"\r\n0\r\n\r\n"]))
    except OSError:  # the server closed the connection after answering
        pass
    try:
        sock.settimeout(60)
        while b"\r\n\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    except OSError:
        pass
    finally:
        sock.close()
    status = None
    if answer.startswith(b"HTTP/1.1 "):
        status = int(answer[9:12])
    return status, sent, answer.split(b"\r\n\r\n")[0].decode("latin-1")


def nested(depth: int) -> bytes:
    return b'{"reports": ' + b"[" * depth + b"]" * depth + b"}"


class Probe:
    def __init__(self, name: str, run: Callable[[Live, httpx.Client, Path], str | None]):
        self.name = name
        self.run = run  # returns None when the promise held, else what went wrong


def _log_lines(path: Path) -> int:
    return path.read_text(encoding="utf-8", errors="replace").count("\n")


def p_chunked_no_key(live: Live, c: httpx.Client, log: Path) -> str | None:
    total = 3 * live.state.settings.max_body_bytes
    status, sent, _ = chunked_upload(live.url, "/v1/reports/triage", {}, total)
    if status not in (401, 413, 429) or sent >= total:  # 429: this address failed too often
        return f"status {status}, {sent:,} of {total:,} bytes sent before the answer"
    if c.get("/healthz").status_code != 200:
        return "healthz failed"
    return None


def p_chunked_admin(live: Live, c: httpx.Client, log: Path) -> str | None:
    total = 3 * live.state.settings.max_body_bytes
    status, sent, _ = chunked_upload(live.url, "/v1/reports/triage", live.headers("admin"), total)
    if status != 413 or sent >= total:
        return f"status {status}, {sent:,} of {total:,} bytes sent before the answer"
    return None


def p_nested(depth: int):
    def run(live: Live, c: httpx.Client, log: Path) -> str | None:
        before = _log_lines(log)
        r = c.post(
            "/v1/reports/triage",
            content=nested(depth),
            headers={**live.headers("pusat"), "content-type": "application/json"},
        )
        time.sleep(0.2)
        lines = _log_lines(log) - before
        if not 400 <= r.status_code < 500 or "UTF-8" in r.text:
            return f"{r.status_code} {r.text[:120]}"
        if lines > 2:
            return f"{lines} log lines"
        return None

    return run


def p_since(value: str):
    def run(live: Live, c: httpx.Client, log: Path) -> str | None:
        try:
            r = c.get("/v1/feedback/export", params={"since": value}, headers=live.headers("ds"))
            r.read()
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if r.status_code != 422 or "since" not in r.text:
            return f"{r.status_code} {r.text[:120]}"
        return None

    return run


def p_nul_path(live: Live, c: httpx.Client, log: Path) -> str | None:
    bad = []
    for method, url in [
        ("DELETE", "/v1/admin/keys/k%00"),
        ("DELETE", "/v1/admin/keys/k%01x"),
        ("GET", "/v1/feedback/export?kind=%00"),
        ("GET", "/v1/feedback/export?since=2024-01-01%00"),
    ]:
        r = c.request(method, url, headers=live.headers("admin"))
        r.read()
        if not 400 <= r.status_code < 500:
            bad.append(f"{method} {url}: {r.status_code}")
    return "; ".join(bad) or None


def p_feedback_other_agency(live: Live, c: httpx.Client, log: Path) -> str | None:
    body = {
        "kind": "triage",
        "report_id": "LAP-X",
        "isi": "Antrean puskesmas panjang.",
        "decision": "overridden",
        "agency": OTHER_AGENCY,
        "predicted_agency": "Dinas Lingkungan Hidup",
    }
    bad = []
    # an instansi (Dinas Perhubungan) labels a disposition addressed to two other agencies
    r = c.post("/v1/feedback", json={**body, "agency": AGENCY}, headers=live.headers("instansi"))
    if r.status_code != 403:
        bad.append(f"claims another's disposition: {r.status_code}")
    r = c.post(
        "/v1/feedback",
        json={**body, "agency": OTHER_AGENCY, "predicted_agency": "Dinas Pekerjaan Umum"},
        headers=live.headers("instansi"),
    )
    if r.status_code != 403:
        bad.append(f"labels for two other agencies: {r.status_code}")
    return "; ".join(bad) or None


def p_log_forging(live: Live, c: httpx.Client, log: Path) -> str | None:
    fake = "2026-12-05 12:50:00,000 INFO service.access: GET /v1/fake 200"
    start = log.stat().st_size
    c.get("/nope%0a" + fake.replace(" ", "%20")).read()
    c.get("/nope%1b[31mred%00nul%e2%80%a8sep").read()
    time.sleep(0.2)
    with log.open("rb") as f:
        f.seek(start)
        new = f.read().decode("utf-8", errors="replace")
    bad = []
    if any(line.startswith("2026-12-05 12:50:00,000") for line in new.splitlines()):
        bad.append("a forged line")
    for char, name in (("\x1b", "ESC"), ("\x00", "NUL"), ("\u2028", "U+2028")):
        if char in new:
            bad.append(f"raw {name}")
    return ", ".join(bad) or None


def p_id_echo(live: Live, c: httpx.Client, log: Path) -> str | None:
    bad = []
    r = c.post(
        "/v1/reports/triage",
        json={"reports": [{**REPORT, "id": "081234567890"}]},
        headers=live.headers("pusat"),
    )
    if "081234567890" in r.text:
        bad.append("triage id")
    item = {"id": "budi@example.com", "report_text": "Lampu mati.", "reply_text": "Sudah."}
    r = c.post(
        "/v1/replies/assess",
        json={"items": [{**item, "agency": AGENCY}]},
        headers=live.headers("admin"),
    )
    if "budi@example.com" in r.text:
        bad.append("assess id")
    return ", ".join(bad) or None


def p_rate_limit(live: Live, c: httpx.Client, log: Path) -> str | None:
    statuses = []
    for i in range(60):
        r = c.get("/v1/models", headers={"X-API-Key": f"lt_kdeadbeef00_{'x' * 20}{i:04d}"})
        statuses.append(r.status_code)
    if 429 not in statuses:
        return f"60 wrong keys: {statuses.count(401)} x 401, no 429"
    retry = c.get("/v1/models", headers={"X-API-Key": "lt_kdeadbeef00_" + "y" * 24})
    if "retry-after" not in retry.headers:
        return "429 without Retry-After"
    return None


def p_total_chars(live: Live, c: httpx.Client, log: Path) -> str | None:
    body = {"reports": [{**REPORT, "id": str(i), "isi": "jalan rusak " * 1666} for i in range(256)]}
    r = c.post("/v1/reports/triage", json=body, headers=live.headers("pusat"), timeout=120)
    if r.status_code not in (413, 422):
        return f"256 x 20,000 characters: {r.status_code}"
    return None


def p_readyz(live: Live, c: httpx.Client, log: Path) -> str | None:
    body = c.get("/readyz").json()
    if set(body) != {"status"}:
        return f"public /readyz shows {sorted(set(body) - {'status'})}"
    return None


def p_docs_offline(live: Live, c: httpx.Client, log: Path) -> str | None:
    html = c.get("/docs").text
    urls = [u for u in _urls(html) if u.startswith(("http:", "https:", "//"))]
    return f"/docs loads {urls}" if urls else None


def _urls(html: str) -> list[str]:
    import re

    return re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", html)


def p_integer_ids(live: Live, c: httpx.Client, log: Path) -> str | None:
    r = c.post(
        "/v1/reports/triage", json={"reports": [{**REPORT, "id": 7}]}, headers=live.headers("pusat")
    )
    if r.status_code != 200:
        return f"integer id: {r.status_code}"
    return None


def p_cli_flag(live: Live, c: httpx.Client, log: Path) -> str | None:
    r = c.post("/v1/admin/keys", json={"role": "admin_instansi"}, headers=live.headers("admin"))
    if r.status_code != 422 or "--agency" in r.text:
        return f"{r.status_code} {r.text[:120]}"
    return None


def p_no_content_type(live: Live, c: httpx.Client, log: Path) -> str | None:
    bad = []
    for headers in ({}, {"content-type": "text/plain"}):
        r = c.post(
            "/v1/reports/triage",
            content=json.dumps({"reports": [REPORT]}).encode(),
            headers={**live.headers("pusat"), **headers},
        )
        if r.status_code >= 500 or "Content-Type" not in r.text:
            bad.append(f"{headers or 'none'}: {r.status_code} {r.text[:100]}")
    return "; ".join(bad) or None


PROBES = [
    Probe("2.1 chunked 3x limit, no key", p_chunked_no_key),
    Probe("2.1 chunked 3x limit, admin key", p_chunked_admin),
    Probe("2.2 JSON nested 500 deep", p_nested(500)),
    Probe("2.2 JSON nested 990 deep", p_nested(990)),
    Probe("2.2 JSON nested 10,000 deep", p_nested(10_000)),
    Probe("2.3 export since=0001-01-01T00:00:00+14:00", p_since("0001-01-01T00:00:00+14:00")),
    Probe("2.3 export since=9999-12-31T23:59:59-14:00", p_since("9999-12-31T23:59:59-14:00")),
    Probe("2.4 NUL/control chars in path and query (4 requests)", p_nul_path),
    Probe("2.5 instansi labels another agency's disposition (2 requests)", p_feedback_other_agency),
    Probe("2.6 log forging: LF, ESC, NUL, U+2028 in the path", p_log_forging),
    Probe("2.7 ids echoed unmasked (triage, assess)", p_id_echo),
    Probe("2.8 60 wrong keys: a 429 with Retry-After", p_rate_limit),
    Probe("2.9 triage of 256 x 20,000 characters refused", p_total_chars),
    Probe("2.10 public /readyz minimal", p_readyz),
    Probe("3 /docs offline", p_docs_offline),
    Probe("3 integer ids accepted", p_integer_ids),
    Probe("3 HTTP error names no CLI flag", p_cli_flag),
    Probe("3 no or wrong Content-Type: a clear message", p_no_content_type),
]


def small_behind_large(
    live: Live, n_large: int = 50, chars: int = 20_000, delay: float = 0.3
) -> dict[str, float]:
    """Seconds for one single-report triage sent ``delay`` seconds after one request of
    ``n_large`` reports of ``chars`` characters (1,000,000 in all by default)."""
    big = {
        "reports": [
            {**REPORT, "id": str(i), "isi": f"lampu PJU padam nomor {i} " * (chars // 25)}
            for i in range(n_large)
        ]
    }
    out: dict[str, float] = {}

    def run_big() -> None:
        with live.client() as c:
            t = time.perf_counter()
            r = c.post("/v1/reports/triage", json=big, headers=live.headers("pusat"), timeout=300)
            out["large_s"] = time.perf_counter() - t
            out["large_status"] = r.status_code

    with live.client() as c:
        small = {"reports": [REPORT]}
        warm = []
        for _ in range(5):
            t = time.perf_counter()
            c.post("/v1/reports/triage", json=small, headers=live.headers("pusat"))
            warm.append(time.perf_counter() - t)
        out["small_alone_s"] = statistics.median(warm)
        thread = threading.Thread(target=run_big)
        thread.start()
        time.sleep(delay)  # the large request is parsed, cleaned and in the batcher
        t = time.perf_counter()
        r = c.post("/v1/reports/triage", json=small, headers=live.headers("pusat"))
        out["small_behind_large_s"] = time.perf_counter() - t
        out["small_status"] = r.status_code
        thread.join()
    return out


def _rss_mb() -> int:
    with open("/proc/self/status") as f:  # the server runs in this process (a thread)
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


def chunked_memory(live: Live, uploads: int = 4, size_mb: int = 250) -> str:
    """``uploads`` chunked bodies of ``size_mb`` MB without a key at once: what was sent before
    the answers, the server's peak resident memory, and the slowest /healthz meanwhile."""
    base = peak = _rss_mb()
    stop = threading.Event()
    health: list[float] = []

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _rss_mb())
            time.sleep(0.05)

    def healthz() -> None:
        with live.client() as c:
            while not stop.is_set():
                t = time.perf_counter()
                c.get("/healthz")
                health.append(time.perf_counter() - t)
                time.sleep(0.05)

    results: list = [None] * uploads

    def upload(i: int) -> None:
        results[i] = chunked_upload(live.url, "/v1/reports/triage", {}, size_mb * 1024 * 1024)[:2]

    helpers = [threading.Thread(target=watch), threading.Thread(target=healthz)]
    for thread in helpers:
        thread.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=upload, args=(i,)) for i in range(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    stop.set()
    for thread in helpers:
        thread.join()
    return (
        f"{uploads} x {size_mb} MB chunked without a key: (status, bytes sent) {results} in "
        f"{elapsed:.1f} s; resident memory {base} -> peak {peak} MB; slowest /healthz "
        f"{max(health, default=0):.2f} s of {len(health)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=2)
    parser.add_argument("--only", help="run the probes whose name contains this")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--latency-runs", type=int, default=1, help="small-behind-large runs")
    parser.add_argument(
        "--models-home",
        type=Path,
        help="a LAPOR_TRIAGE_HOME whose var/models holds the default models (instead of the "
        "tiny test models): ensure_default_models() under that home makes them",
    )
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--memory", action="store_true", help="also: 4 x 250 MB chunked bodies without a key"
    )
    parser.add_argument("--delay", type=float, default=0.3, help="small request sent after (s)")
    parser.add_argument(
        "--slice-chars", type=int, help="LAPOR_TRIAGE_SLICE_CHARS (10**9: no slicing)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lapor-probes-"))
    log_file = tmp / "service.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    if args.models_home:
        tasks = ("report-type", "agency", "reply-quality")
        model_dirs = {task: args.models_home / "var" / "models" / task for task in tasks}
    else:
        model_dirs = train_tiny_models(tmp / "models")
    backends = {"sqlite": f"sqlite:///{tmp / 'lapor.db'}"}
    if not args.sqlite_only and postgres_available() is None:
        backends["postgres"] = PG_URL
    probes = [p for p in PROBES if not args.only or args.only in p.name]
    failures = {p.name: 0 for p in probes}
    attempts = {p.name: 0 for p in probes}
    for backend, url in backends.items():
        extra = (
            {"database_schema": f"lapor_probe_{int(time.time())}"} if backend != "sqlite" else {}
        )
        # the shipped limits (32 MiB body), only the test pepper and models
        shipped = {  # (the code before issue 9 has no auth_failure_limit)
            name: Settings.model_fields[name].default
            for name in ("max_body_bytes", "auth_failure_limit")
            if name in Settings.model_fields
        }
        if args.slice_chars:
            extra["triage_slice_chars"] = args.slice_chars
        settings = make_settings(model_dirs, url, **shipped, **extra)
        live = launch(settings, log_file)
        try:
            for attempt in range(args.attempts):
                for probe in probes:
                    with live.client() as c:
                        try:
                            problem = probe.run(live, c, log_file)
                        except Exception as exc:  # a probe that crashes counts as a failure
                            problem = f"{type(exc).__name__}: {exc}"
                    attempts[probe.name] += 1
                    if problem:
                        failures[probe.name] += 1
                        print(f"  [{backend} #{attempt + 1}] {probe.name}: {problem}", flush=True)
            if args.memory:
                print(f"  [{backend}] {chunked_memory(live)}", flush=True)
            if not args.no_latency:
                runs = [
                    small_behind_large(live, delay=args.delay) for _ in range(args.latency_runs)
                ]
                summary = {
                    k: round(statistics.median(r[k] for r in runs), 3)
                    for k in ("small_alone_s", "small_behind_large_s", "large_s")
                }
                statuses = {(r["small_status"], r["large_status"]) for r in runs}
                print(
                    f"  [{backend}] small behind large, median of {len(runs)}: {summary} "
                    f"(statuses {statuses})",
                    flush=True,
                )
        finally:
            live.stop()
            if backend != "sqlite":
                live.state.db.drop_all()
            live.state.db.dispose()
    print("\n| probe | attempts | failures |\n|---|---|---|")
    for probe in probes:
        print(f"| {probe.name} | {attempts[probe.name]} | {failures[probe.name]} |")


if __name__ == "__main__":
    main()
