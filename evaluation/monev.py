"""Monitoring and evaluation (monev) of agencies' follow-up replies.

For each agency (and each agency × month where replies carry a date): the number of replies, the
share judged normatif by a reply-quality model, and the most reused templates: clusters of
near-identical replies (character n-gram TF-IDF cosine ≥ ``template_threshold``, single-link).

:func:`run_monev` writes ``monev.csv``, ``monev.md`` and ``normatif_share.png``. Input rows are
JSONL or CSV with ``reply_text`` and ``agency`` (``report_text``, ``id`` and ``date`` optional);
labels, when present, are ignored (the view is what the model says).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lapor_triage.jsonl import read_jsonl
from lapor_triage.monev_table import COLUMNS, monev_table, template_clusters  # noqa: F401
from lapor_triage.text import clean_text
from lapor_triage.training.records import DataError

UNKNOWN_AGENCY = "(tanpa instansi)"


@dataclass
class MonevInput:
    records: list[dict[str, Any]]
    skipped: list[str] = field(default_factory=list)


def read_replies(paths: Sequence[str | Path]) -> MonevInput:
    """Replies to monitor; rows without a reply text are skipped (and listed)."""
    out = MonevInput(records=[])
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        rows: list[tuple[int, dict[str, Any]]] = []
        if path.suffix.lower() == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = [(n, dict(r)) for n, r in enumerate(csv.DictReader(fh), start=2)]
        else:
            rows = list(read_jsonl(path))
        if rows and not any("reply_text" in row for _, row in rows):
            found = list(dict.fromkeys(str(k) for _, row in rows for k in row))
            raise DataError(
                "missing column 'reply_text' (the reply to judge); columns found: "
                + (", ".join(repr(c) for c in found) or "none"),
                file=str(path),
                column="reply_text",
            )
        for n, row in rows:
            reply = clean_text(row.get("reply_text"), salutation=False)
            if not reply:
                out.skipped.append(f"{path} row {n} column 'reply_text': empty reply")
                continue
            date = str(row.get("date") or row.get("reply_date") or "")[:10]
            out.records.append(
                {
                    "id": str(row.get("id") or f"{path.stem}-{n}"),
                    "report_text": clean_text(row.get("report_text")),
                    "reply_text": reply,
                    "agency": (str(row.get("agency") or "").strip() or UNKNOWN_AGENCY),
                    "month": date[:7] if len(date) >= 7 and date[4] == "-" else "",
                }
            )
    return out


def _markdown(rows: list[dict[str, Any]], templates: dict[str, list[dict[str, Any]]]) -> str:
    lines = ["# Monev: mutu tindak lanjut per instansi", ""]
    overall = [r for r in rows if not r["month"]]
    overall.sort(key=lambda r: (-r["share_normatif"], -r["n_replies"]))
    lines += [
        "| instansi | balasan | normatif | porsi normatif | porsi template |",
        "|---|---|---|---|---|",
    ]
    for r in overall:
        lines.append(
            f"| {r['agency']} | {r['n_replies']} | {r['n_normatif']} | "
            f"{r['share_normatif']:.0%} | {r['share_template_reuse']:.0%} |"
        )
    monthly = [r for r in rows if r["month"]]
    if monthly:
        lines += ["", "## Per bulan", "", "| instansi | bulan | balasan | porsi normatif |"]
        lines.append("|---|---|---|---|")
        for r in monthly:
            lines.append(
                f"| {r['agency']} | {r['month']} | {r['n_replies']} | {r['share_normatif']:.0%} |"
            )
    reused = [(a, t) for a, ts in templates.items() for t in ts]
    if reused:
        reused.sort(key=lambda x: -x[1]["count"])
        lines += ["", "## Template yang paling sering dipakai ulang", ""]
        lines += ["| instansi | jumlah | porsi normatif | contoh |", "|---|---|---|---|"]
        for agency, t in reused[:20]:
            example = t["example"].replace("|", "/")
            lines.append(f"| {agency} | {t['count']} | {t['share_normatif']:.0%} | {example} |")
    return "\n".join(lines) + "\n"


def _bar_chart(rows: list[dict[str, Any]], path: Path, top: int = 30) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    overall = sorted(
        (r for r in rows if not r["month"]), key=lambda r: (-r["n_replies"], r["agency"])
    )[:top]
    overall.sort(key=lambda r: r["share_normatif"])
    names = [r["agency"] if len(r["agency"]) <= 45 else r["agency"][:42] + "…" for r in overall]
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.32 * len(overall) + 1.2)))
    ax.barh(names, [r["share_normatif"] for r in overall], color="tab:red")
    for k, r in enumerate(overall):
        ax.text(r["share_normatif"] + 0.01, k, f"n={r['n_replies']}", va="center", fontsize=7)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("porsi balasan normatif")
    ax.set_title("Porsi tindak lanjut normatif per instansi")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_monev(
    scorer: Any,
    data: Sequence[str | Path],
    output: str | Path,
    template_threshold: float = 0.85,
    batch_size: int = 256,
) -> dict[str, Path]:
    """Judge every reply with ``scorer`` and write monev.csv, monev.md and normatif_share.png."""
    from tqdm import tqdm

    loaded = read_replies(data)
    if not loaded.records:
        raise DataError("no replies to monitor (every row had an empty reply_text)")
    verdicts: list[dict[str, Any]] = []
    with tqdm(total=len(loaded.records), desc="judging replies", unit="reply", disable=None) as bar:
        for start in range(0, len(loaded.records), batch_size):
            batch = loaded.records[start : start + batch_size]
            verdicts.extend(scorer.predict_records(batch))
            bar.update(len(batch))
    rows, templates = monev_table(loaded.records, verdicts, template_threshold)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    files = {"csv": out / "monev.csv", "markdown": out / "monev.md"}
    with files["csv"].open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    md = _markdown(rows, templates)
    if loaded.skipped:
        md += f"\n{len(loaded.skipped)} baris dilewati (balasan kosong).\n"
    files["markdown"].write_text(md, encoding="utf-8")
    files["chart"] = _bar_chart(rows, out / "normatif_share.png")
    return files
