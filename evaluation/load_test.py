"""Load test of the HTTP service on loopback, bounded in count and time.

    python -m evaluation.load_test                  # starts `lapor-triage serve` on a free port
    python -m evaluation.load_test --url http://127.0.0.1:8000 --key lt_...

Phases (each stops at its request count or its time limit, whichever comes first):

1. single: one report per request, ``--clients`` (50) concurrent clients;
2. batch: ``--batch`` (100) reports per request, ``--batch-clients`` (4) concurrent clients;
3. reload: the single-report load again while ``POST /v1/admin/reload`` runs ``--reloads`` times.

Prints requests, errors, throughput and p50/p95/p99 latency per phase. Targets (issue 4, default
model, 2-core machine): p99 <= 50 ms single, >= 2,000 reports/s with batches, zero errors, zero
failed requests during reloads. Only 127.0.0.1 is used.

The client is a small asyncio HTTP/1.1 keep-alive client (no third-party client library) so that
the load generator, which shares the CPU with the server, stays cheap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FALLBACK_TEXTS = [
    "Jalan di depan pasar berlubang besar dan membahayakan pengendara motor.",
    "Lampu penerangan jalan umum di Jalan Melati padam sejak seminggu.",
    "Sampah menumpuk di tepi sungai dan tidak diangkut petugas kebersihan.",
    "Bagaimana cara mendaftar BPJS Kesehatan untuk bayi yang baru lahir?",
    "Mohon dibangun taman bermain anak di lahan kosong dekat balai warga.",
    "Antrean di puskesmas sangat panjang dan petugas pendaftaran hanya satu.",
]


# --- a minimal HTTP/1.1 client ---------------------------------------------------------------
class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method == "POST":
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and "close" in value.lower():
                close = True
        if chunked:
            data = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                data += await self.reader.readexactly(size + 2)
                del data[-2:]
            payload = bytes(data)
        else:
            payload = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


# --- phases ----------------------------------------------------------------------------------
@dataclass
class PhaseResult:
    name: str
    items_per_request: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    note: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)

    def row(self) -> dict[str, float | int | str]:
        lat = np.array(self.latencies) * 1000 if self.latencies else np.array([np.nan])
        ok = len(self.latencies)
        return {
            "phase": self.name,
            "requests": self.requests,
            "errors": len(self.errors),
            "req_per_s": ok / self.elapsed if self.elapsed else 0.0,
            "reports_per_s": ok * self.items_per_request / self.elapsed if self.elapsed else 0.0,
            "p50_ms": float(np.percentile(lat, 50)),
            "p95_ms": float(np.percentile(lat, 95)),
            "p99_ms": float(np.percentile(lat, 99)),
            "max_ms": float(np.max(lat)),
            "note": self.note,
        }


def triage_body(texts: list[str], rng: random.Random, n: int, start: int) -> bytes:
    reports = [{"id": str(start + i), "judul": "", "isi": rng.choice(texts)} for i in range(n)]
    return json.dumps({"reports": reports}).encode()


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
    result = PhaseResult(name, per_request)
    headers = {"X-API-Key": key}
    issued = 0
    deadline = time.perf_counter() + max_seconds
    rng = random.Random(0)
    bodies = [triage_body(texts, rng, per_request, i * per_request) for i in range(64)]

    async def client(idx: int) -> None:
        nonlocal issued
        conn = Connection(host, port)
        try:
            while issued < max_requests and time.perf_counter() < deadline:
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


ROUTE = 'method="POST",route="/v1/reports/triage"'


async def server_histogram(host: str, port: int) -> dict[float, float]:
    """Cumulative bucket counts of the server's own triage latency histogram (/metrics)."""
    conn = Connection(host, port)
    try:
        _, payload = await conn.request("GET", "/metrics")
    finally:
        await conn.close()
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


async def measured(host: str, port: int, phase) -> PhaseResult:
    before = await server_histogram(host, port)
    result = await phase
    note = server_p99(before, await server_histogram(host, port))
    result.note = f"{result.note}; {note}" if result.note else note
    return result


async def main_async(args: argparse.Namespace, host: str, port: int, key: str) -> list[dict]:
    texts = load_texts()
    rows = []
    warm = await run_phase(
        "warmup", host, port, key, texts, clients=4, per_request=1, max_requests=200, max_seconds=20
    )
    if warm.errors:
        raise SystemExit(f"warm-up failed: {warm.errors[:3]}")
    single = await measured(
        host,
        port,
        run_phase(
            f"single x{args.clients} clients",
            host,
            port,
            key,
            texts,
            clients=args.clients,
            per_request=1,
            max_requests=args.requests,
            max_seconds=args.seconds,
        ),
    )
    rows.append(single.row())
    batch = await measured(
        host,
        port,
        run_phase(
            f"batch of {args.batch} x{args.batch_clients} clients",
            host,
            port,
            key,
            texts,
            clients=args.batch_clients,
            per_request=args.batch,
            max_requests=args.batches,
            max_seconds=args.seconds,
        ),
    )
    rows.append(batch.row())
    if args.reloads:
        spacing = max(0.5, min(args.seconds, args.requests / 400) / (args.reloads + 1))
        reload = await measured(
            host,
            port,
            run_phase(
                f"single x{args.clients} + {args.reloads} reloads",
                host,
                port,
                key,
                texts,
                clients=args.clients,
                per_request=1,
                max_requests=args.requests,
                max_seconds=args.seconds,
                during=lambda: reloads_during(host, port, key, args.reloads, spacing),
            ),
        )
        rows.append(reload.row())
        for err in reload.errors[:5]:
            print("  reload-phase error:", err, file=sys.stderr)
    return rows


def load_texts() -> list[str]:
    """Report texts from the shipped demo data (fallback: a few built-in sentences)."""
    try:
        from training.data import load_dataset

        result = load_dataset([ROOT / "datasets" / "demo" / "reports.csv"], task="agency")
        texts = [e.text for e in result.examples if e.text.strip()]
        if texts:
            return texts
    except Exception as exc:  # demo data or loader unavailable
        print(f"(using built-in texts: {exc})", file=sys.stderr)
    return FALLBACK_TEXTS


# --- running the server --------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, log_path: Path) -> tuple[subprocess.Popen, int, str]:
    port = free_port()
    key = f"lt_loadtest_{secrets.token_urlsafe(24)}"
    env = dict(os.environ)
    env.update(
        LAPOR_ENV="development",
        LAPOR_BOOTSTRAP_ADMIN_KEY=key,
        LAPOR_DATABASE_URL=f"sqlite:///{log_path.parent / 'loadtest.db'}",
    )
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lapor_triage",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 900  # the first run trains the default models
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited ({proc.returncode}); see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        raise SystemExit(f"the service did not start; see {log_path}")
    return proc, port, key


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", help="a running service (http://127.0.0.1:PORT); default: start one"
    )
    parser.add_argument("--key", help="API key with triage and reload rights (with --url)")
    parser.add_argument("--workers", type=int, default=1, help="server workers when started here")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=4000, help="max requests per single phase")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=200, help="max requests in the batch phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="max seconds per phase")
    parser.add_argument("--reloads", type=int, default=3, help="reloads during the last phase")
    parser.add_argument("--json", type=Path, help="also write the results here")
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
            proc, port, key = start_server(args.workers, log_path)
            host = "127.0.0.1"
        rows = asyncio.run(main_async(args, host, port, key))
        print(f"\nlapor-triage load test on http://{host}:{port} ({os.cpu_count()} CPUs shared "
              f"by client and server, server workers: {args.workers if proc else '?'})")  # fmt: skip
        print_table(rows)
        single, batch = rows[0], rows[1]
        print(
            f"\ntargets: p99 single {single['p99_ms']:.1f} ms (<= 50: "
            f"{'met' if single['p99_ms'] <= 50 else 'NOT met'}); batch throughput "
            f"{batch['reports_per_s']:.0f} reports/s (>= 2000: "
            f"{'met' if batch['reports_per_s'] >= 2000 else 'NOT met'}); errors "
            f"{sum(r['errors'] for r in rows)} (0: {'met' if not any(r['errors'] for r in rows) else 'NOT met'})"
        )
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
