"""The single-report phase once more with `wrk <https://github.com/wg/wrk>`_ (a C load generator,
optional: ``--wrk``), with the same request bodies, as a cross-check of the Python client."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from lapor_triage.evaluation.load_client import CpuMeter, PhaseResult, make_bodies


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
