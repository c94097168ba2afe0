"""What storing a console queue with its session costs, for a 1,594-row LAPOR! export: the
compressed size (against ``LAPOR_CONSOLE_QUEUE_MAX_BYTES``) and the time to encode it (mask every
text, JSON, zlib; once per upload) and to decode it (every queue page, on whichever worker).

    python -m tests.service.bench_console_queue [--export PATH] [--runs 5]

The export is Kab. Bandung's real one when it is there, else the demo export repeated up to 1,594
rows (``tests.cli.bench_annotate.demo_export``). Every row gets a suggestion of the largest shape
the queue stores (three instansi with kind, region and evidence, three units), so the size is an
upper figure for that export. Prints median and min of ``--runs``; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from lapor_triage.service.console.annotate import read_export
from lapor_triage.service.console.queue_store import decode, encode
from tests.cli.bench_annotate import KAB_BANDUNG, demo_export

SUGGESTION = {
    "report_type": "pengaduan",
    "type_probability": 0.91,
    "disposition": {
        "abstain": False,
        "top_k": [
            {
                "name": f"Dinas Perhubungan Kabupaten Bandung {i}",
                "probability": 0.4 - i / 10,
                "kind": "dinas",
                "region": "Kabupaten Bandung",
                "evidence": ["Bandung", "Soreang"],
                "seen_in_training": True,
            }
            for i in range(3)
        ],
    },
    "unit": {
        "model": "agency",
        "abstain": False,
        "top_k": [{"name": f"Dinas Kesehatan {i}", "probability": 0.3} for i in range(3)],
    },
    "confidence": 0.4,
    "abstain": False,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.export or (KAB_BANDUNG if KAB_BANDUNG.exists() else None)
        path = path or demo_export(Path(tmp) / "demo-1594.xlsx")
        export = read_export(path)
    for row in export.rows:
        row.suggestion = SUGGESTION
    enc, dec = [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        blob = encode(export, 1 << 40)
        enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        decode(blob, {"0": {"unit": ["accepted", "Dinas Kesehatan 0"]}})
        dec.append(time.perf_counter() - t)
    print(f"export: {path.name}, {len(export.rows)} rows")
    print(f"stored queue: {len(blob):,} bytes compressed ({len(blob) / 1_048_576:.2f} MiB)")
    for name, times in (("encode (per upload)", enc), ("decode (per page)", dec)):
        print(
            f"{name}: median {statistics.median(times) * 1000:.0f} ms, "
            f"min {min(times) * 1000:.0f} ms over {args.runs} runs"
        )


if __name__ == "__main__":
    main()
