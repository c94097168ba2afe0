#!/usr/bin/env python3
"""Build reply_challenge_blind.jsonl (beside this file) from the hand-written texts in data_*.py.

All report and reply texts were written by hand for this blind set (see README.md).
Evaluation only: never use for training, tuning or test fixtures.
"""

import json
import os
import random
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from codes import SUBST, C, codes  # noqa: E402
from data_extra import HS3, HS4, MP3  # noqa: E402
from data_hs1 import HS1  # noqa: E402
from data_hs2 import HS2  # noqa: E402
from data_mp1 import MP1  # noqa: E402
from data_mp2 import MP2  # noqa: E402
from data_rs import RS  # noqa: E402

GUIDELINE = os.path.join(HERE, "..", "..", "..", "shared", "data", "replies", "GUIDELINE.md")
OUT = os.path.join(HERE, "reply_challenge_blind.jsonl")
N_CODES = {k for k in C if k not in SUBST}


def check_codes(label, cs, where):
    keys = cs.split()
    if label == "normatif":
        assert all(k in N_CODES for k in keys), (where, cs)
    else:
        assert any(k in SUBST for k in keys) and all(k in SUBST for k in keys), (where, cs)
    return codes(cs)


def row(kind, report_id, agency, report, reply, label, cs, pair_id, where):
    return {
        "report_source": "blind",
        "report_id": report_id,
        "report_text": report,
        "agency": agency,
        "reply_text": reply,
        "label": label,
        "reasons": check_codes(label, cs, where),
        "challenge": kind,
        "pair_id": pair_id,
    }


rows = []
for k, (ag, rep, nrep, ncs, srep, scs) in enumerate(MP1 + MP2 + MP3, 1):
    rid = f"blind-mp{k:03d}"
    rows.append(row("minimal_pair", rid, ag, rep, nrep, "normatif", ncs, rid, rid))
    rows.append(row("minimal_pair", rid, ag, rep, srep, "substantif", scs, rid, rid))

for k, (ag, ra, pa, ca, rb, pb, cb) in enumerate(RS, 1):
    ida, idb = f"blind-rs{k:02d}a", f"blind-rs{k:02d}b"
    # reply written for report A: substantif under A, tidak_relevan under B
    rows.append(row("relevance_swap", ida, ag, ra, pa, "substantif", ca, f"{ida}-reply", ida))
    rows.append(row("relevance_swap", idb, ag, rb, pa, "normatif", "TR", f"{ida}-reply", ida))
    # reply written for report B: substantif under B, tidak_relevan under A
    rows.append(row("relevance_swap", idb, ag, rb, pb, "substantif", cb, f"{idb}-reply", idb))
    rows.append(row("relevance_swap", ida, ag, ra, pb, "normatif", "TR", f"{idb}-reply", idb))

for k, (ag, rep, reply, lab, cs) in enumerate(HS1 + HS2 + HS3 + HS4, 1):
    rid = f"blind-hs{k:03d}"
    label = {"N": "normatif", "S": "substantif"}[lab]
    rows.append(row("hard_single", rid, ag, rep, reply, label, cs, None, rid))

random.Random(20261205).shuffle(rows)
for i, r in enumerate(rows, 1):
    r["id"] = f"blind-{i:04d}"
rows = [{"id": r["id"], **{k: v for k, v in r.items() if k != "id"}} for r in rows]

with open(OUT, "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")

# ---------------- validation ----------------
guide_codes = set(re.findall(r"^- `([a-z_]+)`", open(GUIDELINE, encoding="utf-8").read(), re.M))
assert len(guide_codes) == 13, guide_codes
back = [json.loads(line) for line in open(OUT, encoding="utf-8")]
fields = [
    "id",
    "report_source",
    "report_id",
    "report_text",
    "agency",
    "reply_text",
    "label",
    "reasons",
    "challenge",
    "pair_id",
]
assert all(list(r) == fields for r in back)
assert len({r["id"] for r in back}) == len(back), "duplicate ids"
assert all(r["label"] in {"normatif", "substantif"} for r in back)
assert all(r["reasons"] and set(r["reasons"]) <= guide_codes for r in back)
assert len({(r["report_text"], r["reply_text"]) for r in back}) == len(back), (
    "duplicate (report, reply)"
)
# no personal data: phone-like digit runs, 16-digit NIK, e-mails
pii = re.compile(r"(?<![\w-])(\+62|08)\d{2}[\d\- ]{6,}|\b\d{16}\b|[\w.]+@[\w.]+\.\w+")
for r in back:
    for t in (r["report_text"], r["reply_text"]):
        assert not pii.search(t), (r["id"], t)
# pair structure
pairs = Counter(r["pair_id"] for r in back if r["pair_id"])
assert all(v == 2 for v in pairs.values())
for pid in pairs:
    labs = sorted(r["label"] for r in back if r["pair_id"] == pid)
    assert labs == ["normatif", "substantif"], pid

print("rows:", len(back), "| agencies:", len({r["agency"] for r in back}))
print(
    "label:",
    dict(Counter(r["label"] for r in back)),
    f"normatif share {sum(r['label'] == 'normatif' for r in back) / len(back):.1%}",
)
for kind in ["minimal_pair", "relevance_swap", "hard_single"]:
    sub = [r for r in back if r["challenge"] == kind]
    print(f"{kind}: {len(sub)}", dict(Counter(r["label"] for r in sub)))
print("reasons:", dict(Counter(c for r in back for c in r["reasons"]).most_common()))
print("validation OK ->", OUT)
