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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
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


# --- CPU accounting ---------------------------------------------------------------------------
def process_tree_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants (Linux /proc)."""
    if pid is None or not Path("/proc").is_dir():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _) in stats.items():
            if ppid == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(stats[p][1] for p in tree if p in stats)


class CpuMeter:
    """CPU seconds of this process (the client) and of the server's process tree over a phase."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid
        self.client0 = time.process_time()
        self.server0 = process_tree_cpu(server_pid)

    def note(self, elapsed: float) -> str:
        client = time.process_time() - self.client0
        text = f"CPU: client {client:.1f} s ({100 * client / max(elapsed, 1e-9):.0f}% of a core)"
        server1 = process_tree_cpu(self.server_pid)
        if self.server0 is not None and server1 is not None:
            server = server1 - self.server0
            text += f", server {server:.1f} s ({100 * server / max(elapsed, 1e-9):.0f}%)"
        return text


# --- phases ----------------------------------------------------------------------------------
@dataclass
class PhaseResult:
    name: str
    items_per_request: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    note: str = ""
    requests_override: int | None = None  # wrk counts requests itself
    percentiles_ms: dict[int, float] | None = None  # wrk reports percentiles, not latencies

    def add_note(self, text: str) -> None:
        self.note = f"{self.note}; {text}" if self.note else text

    @property
    def requests(self) -> int:
        if self.requests_override is not None:
            return self.requests_override
        return len(self.latencies) + len(self.errors)

    def row(self) -> dict[str, float | int | str]:
        if self.percentiles_ms is not None:
            ok = self.requests - len(self.errors)
            pct = self.percentiles_ms
            return {
                "phase": self.name,
                "requests": self.requests,
                "errors": len(self.errors),
                "req_per_s": ok / self.elapsed if self.elapsed else 0.0,
                "reports_per_s": ok * self.items_per_request / self.elapsed if self.elapsed else 0,
                "p50_ms": pct.get(50, float("nan")),
                "p95_ms": float("nan"),  # wrk prints 50/75/90/99
                "p99_ms": pct.get(99, float("nan")),
                "max_ms": pct.get(100, float("nan")),
                "note": self.note,
            }
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


N_BODIES = 256  # distinct request bodies per phase (random demo reports: not one text repeated)


def triage_body(texts: list[str], rng: random.Random, n: int, start: int) -> bytes:
    reports = [{"id": str(start + i), "judul": "", "isi": rng.choice(texts)} for i in range(n)]
    return json.dumps({"reports": reports}).encode()


def make_bodies(texts: list[str], per_request: int) -> list[bytes]:
    rng = random.Random(0)
    return [triage_body(texts, rng, per_request, i * per_request) for i in range(N_BODIES)]


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
        server_pid,
    )
    rows.append(single.row())
    if args.wrk:
        rows.append(run_wrk(args, host, port, key, texts, server_pid).row())
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
        server_pid,
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
                during=lambda: reloads_then_followers(host, port, key, args.reloads, spacing),
            ),
            server_pid,
        )
        rows.append(reload.row())
        for err in reload.errors[:5]:
            print("  reload-phase error:", err, file=sys.stderr)
    return rows


# --- wrk (optional) ---------------------------------------------------------------------------
def _lua_string(data: bytes) -> str:
    text = data.decode()
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def _ms(value: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    return float(value)


def parse_wrk(output: str) -> tuple[int, int, float, dict[int, float]]:
    """(requests, errors, seconds, {percentile: ms}) from ``wrk --latency`` output."""
    requests, errors, seconds, pct = 0, 0, 0.0, {}
    in_dist = False
    for line in output.splitlines():
        words = line.split()
        if "Latency Distribution" in line:
            in_dist = True
            continue
        if in_dist and len(words) == 2 and words[0].endswith("%"):
            pct[int(float(words[0][:-1]))] = _ms(words[1])
            continue
        in_dist = False
        if len(words) >= 5 and words[1] == "requests" and words[2] == "in":
            requests, seconds = int(words[0]), _ms(words[3].rstrip(",")) / 1000
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            errors += int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            errors += sum(int(w.rstrip(",")) for w in words if w.rstrip(",").isdigit())
        elif words[:1] == ["Latency"] and len(words) >= 5:
            pct[100] = _ms(words[3])  # the maximum
    return requests, errors, seconds, pct


def run_wrk(
    args: argparse.Namespace,
    host: str,
    port: int,
    key: str,
    texts: list[str],
    server_pid: int | None,
) -> PhaseResult:
    """The single-report phase driven by wrk (same bodies, ``--clients`` connections)."""
    result = PhaseResult(f"wrk: single x{args.clients} conns", 1)
    exe = shutil.which("wrk")
    if exe is None:
        result.add_note("wrk is not on PATH: skipped")
        result.percentiles_ms, result.requests_override = {}, 0
        return result
    bodies = make_bodies(texts, 1)
    script = "\n".join(
        [
            "local bodies = {" + ",\n".join(_lua_string(b) for b in bodies) + "}",
            "local i = 0",
            'wrk.method = "POST"',
            f'wrk.headers["X-API-Key"] = "{key}"',
            'wrk.headers["Content-Type"] = "application/json"',
            "request = function()",
            "  i = i + 1",
            '  return wrk.format(nil, "/v1/reports/triage", nil, bodies[(i % #bodies) + 1])',
            "end",
        ]
    )
    with tempfile.TemporaryDirectory(prefix="lapor-wrk-") as tmp:
        path = Path(tmp) / "triage.lua"
        path.write_text(script)
        cpu = CpuMeter(server_pid)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                exe,
                "-t1",
                f"-c{args.clients}",
                f"-d{int(args.wrk_seconds)}s",
                "--latency",
                "-s",
                str(path),
                f"http://{host}:{port}/v1/reports/triage",
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=args.wrk_seconds + 60,
        )
        elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        result.errors.append(f"wrk exited {proc.returncode}: {proc.stderr[:200]}")
    requests, errors, seconds, pct = parse_wrk(proc.stdout)
    result.requests_override = requests
    result.errors += ["wrk: non-2xx or socket error"] * errors
    result.elapsed = seconds or elapsed
    result.percentiles_ms = pct
    result.add_note(cpu.note(elapsed).replace("client", "this process (not wrk)"))
    result.add_note("wrk prints p50/p75/p90/p99 only; max from its Latency line")
    return result


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


# --- running the server --------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, log_path: Path) -> tuple[subprocess.Popen, int, str]:
    """``lapor-triage serve`` on a free port with a throw-away database and a bootstrap key."""
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
        server_pid = proc.pid if proc is not None else None
        rows = run_async(main_async(args, host, port, key, server_pid))
        print(f"\nlapor-triage load test on http://{host}:{port} ({os.cpu_count()} CPUs shared "
              f"by client and server, server workers: {args.workers if proc else '?'})")  # fmt: skip
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
