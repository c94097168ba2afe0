"""Load test of the HTTP service on loopback, bounded in count and time.

    python -m lapor_triage.evaluation.load_test                  # starts `lapor-triage serve` on a free port
    python -m lapor_triage.evaluation.load_test --url http://127.0.0.1:8000 --key lt_...

Phases (each stops at its request count or its time limit, whichever comes first):

1. single: one report per request, ``--clients`` (50) concurrent clients;
2. batch: ``--batch`` (100) reports per request, ``--batch-clients`` (4) concurrent clients;
3. reload: the single-report load again while ``POST /v1/admin/reload`` runs ``--reloads`` times.

Prints requests, errors, throughput and p50/p95/p99 latency per phase. Targets (issue 4, default
model, 2-core machine): p99 <= 50 ms single, >= 2,000 reports/s with batches, zero errors, zero
failed requests during reloads. Only 127.0.0.1 is used.

The client is a small asyncio HTTP/1.1 keep-alive client (no third-party client library; on uvloop
when installed) running in this process, the server in another (``--workers`` processes), so
that the load generator, which shares the CPU with the server, stays cheap. Each phase prints the
CPU seconds the client and (when started here) the server used, so one can see which dominated.
With several workers the reload phase also checks, through ``/readyz``, that every worker
followed the last reload.

``--wrk`` runs the single-report phase once more with `wrk <https://github.com/wg/wrk>`_ (a C load
generator, one thread) when it is on PATH, with the same request bodies, as a cross-check of the
Python client. wrk is optional: nothing else needs it.

    python -m lapor_triage.evaluation.load_test --workers 2 --wrk

``--disposition-model DIR`` serves a national disposition model as well (a saved model folder, e.g.
from ``lapor-triage train --task disposition`` or ``python -m
lapor_triage.evaluation.disposition_speed --save DIR``): every triage answer then carries
``disposition``, and the warm-up checks that it does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from lapor_triage.evaluation.load_client import (
    Connection,
    CpuMeter,
    PhaseResult,
    make_bodies,
)
from lapor_triage.evaluation.load_server import start_server
from lapor_triage.evaluation.load_wrk import run_wrk

FALLBACK_TEXTS = [
    "Jalan di depan pasar berlubang besar dan membahayakan pengendara motor.",
    "Lampu penerangan jalan umum di Jalan Melati padam sejak seminggu.",
    "Sampah menumpuk di tepi sungai dan tidak diangkut petugas kebersihan.",
    "Bagaimana cara mendaftar BPJS Kesehatan untuk bayi yang baru lahir?",
    "Mohon dibangun taman bermain anak di lahan kosong dekat balai warga.",
    "Antrean di puskesmas sangat panjang dan petugas pendaftaran hanya satu.",
]


async def run_phase(
    name: str,
    host: str,
    port: int,
    key: str,
    texts: list[str],
    *,
    clients: int,
    per_request: int,
    max_requests: int,
    max_seconds: float,
    during=None,
) -> PhaseResult:
    """Clients send until ``max_requests`` or ``max_seconds``; with ``during`` (the reloads) they
    keep sending until it is done as well, so that every reload happens under load."""
    result = PhaseResult(name, per_request)
    headers = {"X-API-Key": key}
    issued = 0
    busy = during is not None
    deadline = time.perf_counter() + max_seconds
    bodies = make_bodies(texts, per_request)

    async def client(idx: int) -> None:
        nonlocal issued, busy
        conn = Connection(host, port)
        try:
            while (issued < max_requests or busy) and time.perf_counter() < deadline:
                issued += 1
                body = bodies[issued % len(bodies)]
                t0 = time.perf_counter()
                try:
                    status, payload = await conn.request(
                        "POST", "/v1/reports/triage", body, headers
                    )
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                    await conn.close()
                    continue
                if status != 200:
                    result.errors.append(f"HTTP {status}: {payload[:200]!r}")
                else:
                    result.latencies.append(time.perf_counter() - t0)
        finally:
            await conn.close()

    t_start = time.perf_counter()
    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    if during is not None:
        result.note = await during()
        busy = False
        if time.perf_counter() >= deadline:
            result.add_note("the time limit ended the load before the reloads were done")
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - t_start
    return result


async def reloads_during(host: str, port: int, key: str, n: int, spacing: float) -> str:
    conn = Connection(host, port)
    outcomes = []
    try:
        for _ in range(n):
            await asyncio.sleep(spacing)
            status, payload = await conn.request(
                "POST", "/v1/admin/reload", b"", {"X-API-Key": key}
            )
            info = json.loads(payload) if payload else {}
            outcomes.append(f"{status}/gen{info.get('generation')}")
    finally:
        await conn.close()
    return "reloads: " + ", ".join(outcomes)


async def reloads_then_followers(host: str, port: int, key: str, n: int, spacing: float) -> str:
    """The reloads, then (still under load) the wait until every worker has followed them."""
    note = await reloads_during(host, port, key, n, spacing)
    return f"{note}; {await workers_following(host, port, key)}"


ROUTE = 'method="POST",route="/v1/reports/triage"'


async def server_histogram(conn: Connection) -> dict[float, float]:
    """Cumulative bucket counts of the server's own triage latency histogram (/metrics)."""
    _, payload = await conn.request("GET", "/metrics")
    buckets = {}
    for line in payload.decode().splitlines():
        if line.startswith("lapor_http_request_duration_seconds_bucket{") and ROUTE in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return buckets


def server_p99(before: dict[float, float], after: dict[float, float]) -> str:
    """Upper bound of the bucket holding the server-side p99 of the requests in between."""
    diffs = sorted((le, after[le] - before.get(le, 0.0)) for le in after)
    total = diffs[-1][1] if diffs else 0
    if not total:
        return "server p99: n/a"
    for le, count in diffs:
        if count >= 0.99 * total:
            return f"server-side p99 <= {le * 1000:.0f} ms (histogram bucket)"
    return "server p99: n/a"


async def measured(host: str, port: int, phase, server_pid: int | None = None) -> PhaseResult:
    # One keep-alive connection for both scrapes: with several worker processes the same worker
    # answers both, so the difference is that worker's share of the phase (a sample).
    conn = Connection(host, port)
    stop = asyncio.Event()

    async def keep_alive() -> None:  # the server closes idle connections after a few seconds
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 2)
            except asyncio.TimeoutError:
                await conn.request("GET", "/healthz")

    try:
        before = await server_histogram(conn)
        cpu = CpuMeter(server_pid)
        pinger = asyncio.create_task(keep_alive())
        try:
            result = await phase
        finally:
            stop.set()
        result.add_note(cpu.note(result.elapsed))
        try:
            await pinger
            after = await server_histogram(conn)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            after = {}  # lost: another worker's numbers would not be comparable
        result.add_note(server_p99(before, after) if after else "server p99: n/a")
    finally:
        await conn.close()
    return result


async def workers_following(host: str, port: int, key: str, wait: float = 15.0) -> str:
    """Whether every worker listed by /readyz acted on the newest reload (waits a little; the
    worker list needs an admin key)."""
    conn = Connection(host, port)
    deadline = time.monotonic() + wait
    try:
        while True:
            _, payload = await conn.request("GET", "/readyz", headers={"X-API-Key": key})
            workers = json.loads(payload).get("workers") or []
            if not workers:
                return "workers: not reported (reload polling off?)"
            newest = max(w.get("reload_id") or 0 for w in workers)
            behind = [w for w in workers if (w.get("reload_id") or 0) < newest]
            failed = [w for w in workers if w.get("ok") is False]
            if (not behind and not failed) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    text = f"{len(workers)} worker(s) on reload {newest}"
    if behind:
        text += f", {len(behind)} NOT following"
    if failed:
        text += f", {len(failed)} FAILED their reload"
    return text


async def main_async(
    args: argparse.Namespace, host: str, port: int, key: str, server_pid: int | None = None
) -> list[dict]:
    texts = load_texts()
    rows = []
    warm = await run_phase(
        "warmup", host, port, key, texts, clients=4, per_request=1, max_requests=200, max_seconds=20
    )
    if warm.errors:
        raise SystemExit(f"warm-up failed: {warm.errors[:3]}")
    if getattr(args, "disposition_model", None):
        await check_disposition(host, port, key, texts[0])

    async def phase(name: str, clients: int, per_request: int, max_requests: int, during=None):
        """One measured phase of ``clients`` concurrent clients (``--seconds`` at most)."""
        return await measured(
            host,
            port,
            run_phase(
                name,
                host,
                port,
                key,
                texts,
                clients=clients,
                per_request=per_request,
                max_requests=max_requests,
                max_seconds=args.seconds,
                during=during,
            ),
            server_pid,
        )

    single = await phase(f"single x{args.clients} clients", args.clients, 1, args.requests)
    rows.append(single.row())
    if args.wrk:
        rows.append(run_wrk(args, host, port, key, texts, server_pid).row())
    batch = await phase(
        f"batch of {args.batch} x{args.batch_clients} clients",
        args.batch_clients,
        args.batch,
        args.batches,
    )
    rows.append(batch.row())
    if args.reloads:
        spacing = max(0.5, min(args.seconds, args.requests / 400) / (args.reloads + 1))
        reload = await phase(
            f"single x{args.clients} + {args.reloads} reloads",
            args.clients,
            1,
            args.requests,
            during=lambda: reloads_then_followers(host, port, key, args.reloads, spacing),
        )
        rows.append(reload.row())
        for err in reload.errors[:5]:
            print("  reload-phase error:", err, file=sys.stderr)
    return rows


async def check_disposition(host: str, port: int, key: str, text: str) -> None:
    """Stop unless the served triage answer carries ``disposition`` (the model was loaded)."""
    conn = Connection(host, port)
    try:
        body = json.dumps({"reports": [{"id": "0", "judul": "", "isi": text}]}).encode()
        status, payload = await conn.request("POST", "/v1/reports/triage", body, {"X-API-Key": key})
    finally:
        await conn.close()
    if status != 200 or b'"disposition"' not in payload:
        raise SystemExit(
            f"the service answered without disposition: HTTP {status} {payload[:300]!r}"
        )


def load_texts() -> list[str]:
    """Report texts from the shipped demo data (fallback: a few built-in sentences)."""
    try:
        from lapor_triage.paths import datasets_dir
        from lapor_triage.training.data import load_dataset

        result = load_dataset([datasets_dir() / "demo" / "reports.csv"], task="agency")
        texts = [e.text for e in result.examples if e.text.strip()]
        if texts:
            return texts
    except Exception as exc:  # demo data or loader unavailable
        print(f"(using built-in texts: {exc})", file=sys.stderr)
    return FALLBACK_TEXTS


def print_table(rows: list[dict]) -> None:
    cols = ["phase", "requests", "errors", "req_per_s", "reports_per_s", "p50_ms", "p95_ms",
            "p99_ms", "max_ms"]  # fmt: skip
    widths = {c: max(len(c), *(len(fmt(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(fmt(r[c]).ljust(widths[c]) for c in cols))
        if r["note"]:
            print(f"    {r['note']}")


def fmt(v) -> str:
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def run_async(coro):
    """``asyncio.run`` on uvloop when it is installed (a cheaper client), else the default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", help="a running service (http://127.0.0.1:PORT); default: start one"
    )
    parser.add_argument("--key", help="API key with triage and reload rights (with --url)")
    parser.add_argument("--workers", type=int, default=1, help="server workers when started here")
    parser.add_argument(
        "--wrk", action="store_true", help="also run the single phase with wrk (when on PATH)"
    )
    parser.add_argument("--wrk-seconds", type=float, default=10.0, help="duration of the wrk run")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=4000, help="max requests per single phase")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=200, help="max requests in the batch phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="max seconds per phase")
    parser.add_argument("--reloads", type=int, default=3, help="reloads during the last phase")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--disposition-model",
        type=Path,
        help="a disposition model folder for the started service (LAPOR_DISPOSITION_MODEL_DIR)",
    )
    args = parser.parse_args(argv)

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="lapor-load-")
    try:
        if args.url:
            parts = urlsplit(args.url)
            host, port = parts.hostname, parts.port or 80
            if host not in ("127.0.0.1", "localhost"):
                raise SystemExit("only loopback targets (127.0.0.1) are allowed")
            if not args.key:
                raise SystemExit("--key is required with --url")
            key = args.key
        else:
            log_path = Path(tmp.name) / "service.log"
            print("starting lapor-triage serve on 127.0.0.1 ...", file=sys.stderr)
            extra = {}
            if args.disposition_model:
                if not args.disposition_model.is_dir():
                    raise SystemExit(
                        f"--disposition-model {args.disposition_model}: no such folder"
                    )
                extra["LAPOR_DISPOSITION_MODEL_DIR"] = str(args.disposition_model.resolve())
            proc, port, key = start_server(args.workers, log_path, extra)
            host = "127.0.0.1"
        server_pid = proc.pid if proc is not None else None
        rows = run_async(main_async(args, host, port, key, server_pid))
        print(f"\nlapor-triage load test on http://{host}:{port} ({os.cpu_count()} CPUs shared "
              f"by client and server, server workers: {args.workers if proc else '?'}"
              f"{', disposition model loaded' if args.disposition_model else ''}; load average "
              f"{', '.join(f'{x:.2f}' for x in os.getloadavg())})")  # fmt: skip
        print_table(rows)
        single = rows[0]
        batch = next(r for r in rows if r["phase"].startswith("batch"))
        print(
            f"\ntargets: p99 single {single['p99_ms']:.1f} ms (<= 50: "
            f"{'met' if single['p99_ms'] <= 50 else 'NOT met'}); batch throughput "
            f"{batch['reports_per_s']:.0f} reports/s (>= 2000: "
            f"{'met' if batch['reports_per_s'] >= 2000 else 'NOT met'}); errors "
            f"{sum(r['errors'] for r in rows)} (0: {'met' if not any(r['errors'] for r in rows) else 'NOT met'})"
        )
        for r in rows:
            if r["phase"].startswith("wrk"):
                print(f"wrk cross-check: p99 single {r['p99_ms']:.1f} ms, {r['req_per_s']:.0f} req/s, "
                      f"errors {r['errors']}")  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))
        return 0 if not any(r["errors"] for r in rows) else 1
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
