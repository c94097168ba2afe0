"""The load test's measuring side (:mod:`~evaluation.load_test`): a minimal asyncio HTTP/1.1
keep-alive client, the CPU seconds a process tree used, the request bodies, and what one phase
measured (:class:`PhaseResult`)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


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


# --- what a phase measured ---------------------------------------------------------------------
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
