"""The monev table: share of normatif replies per agency (and agency × month), reused templates.

A core module: the console (``lapor_triage.service.console``) and ``lapor-triage monev``
(``lapor_triage.evaluation.monev``, which adds reading files and the Markdown and PNG report) compute
the same table from the same code. Templates are clusters of near-identical replies: character
n-gram TF-IDF cosine ≥ ``template_threshold``, single-link.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


def template_clusters(texts: Sequence[str], threshold: float = 0.85) -> list[list[int]]:
    """Groups (indices, largest first) of near-identical texts; singletons are left out."""
    n = len(texts)
    if n < 2:
        return []
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    mat = vec.fit_transform([t[:4000] for t in texts])
    sims = (mat @ mat.T).tocoo()
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, v in zip(sims.row, sims.col, sims.data, strict=True):
        if i < j and v >= threshold:
            parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=len, reverse=True)


def monev_table(
    records: Sequence[dict[str, Any]],
    verdicts: Sequence[dict[str, Any]],
    template_threshold: float = 0.85,
    top_templates: int = 3,
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Rows per agency (month "" = all months) and per agency × month; templates per agency."""
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        by_key[(rec["agency"], "")].append(i)
        if rec.get("month"):
            by_key[(rec["agency"], rec["month"])].append(i)
    templates: dict[str, list[dict[str, Any]]] = {}
    reused: dict[str, set[int]] = {}
    for (agency, month), idx in by_key.items():
        if month:
            continue
        clusters = template_clusters([records[i]["reply_text"] for i in idx], template_threshold)
        reused[agency] = {idx[k] for c in clusters for k in c}
        templates[agency] = [
            {
                "count": len(c),
                "share_normatif": float(
                    np.mean([verdicts[idx[k]]["label"] == "normatif" for k in c])
                ),
                "example": records[idx[c[0]]]["reply_text"][:160].replace("\n", " "),
            }
            for c in clusters[:top_templates]
        ]
    rows = []
    for (agency, month), idx in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        n_norm = sum(verdicts[i]["label"] == "normatif" for i in idx)
        tpl = templates.get(agency, [])
        rows.append(
            {
                "agency": agency,
                "month": month,
                "n_replies": len(idx),
                "n_normatif": n_norm,
                "share_normatif": round(n_norm / len(idx), 4),
                "share_template_reuse": round(
                    sum(i in reused.get(agency, set()) for i in idx) / len(idx), 4
                ),
                "top_template_count": tpl[0]["count"] if (tpl and not month) else "",
                "top_template": tpl[0]["example"] if (tpl and not month) else "",
            }
        )
    return rows, templates


COLUMNS = [
    "agency",
    "month",
    "n_replies",
    "n_normatif",
    "share_normatif",
    "share_template_reuse",
    "top_template_count",
    "top_template",
]
