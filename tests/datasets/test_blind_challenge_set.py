"""The blind reply challenge set stays blind: it parses, and no code but the evaluation reads it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.conftest import ROOT

BLIND = ROOT / "datasets" / "challenge_blind" / "reply_challenge_blind.jsonl"
# Code that may name the blind set: its own builder and this test. The evaluation protocol finds
# every challenge set by a glob (datasets/challenge*/), so it never needs the name.
ALLOWED = {
    Path("datasets/challenge_blind/build_blind.py"),
    Path("tests/datasets/test_blind_challenge_set.py"),
    Path("tests/evaluation/test_protocol.py"),  # a folder of that name in a temporary directory
}


def test_the_blind_set_is_what_its_card_says() -> None:
    rows = [json.loads(line) for line in BLIND.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 396
    assert len({r["id"] for r in rows}) == len(rows)
    assert Counter(r["label"] for r in rows) == {"normatif": 198, "substantif": 198}
    assert Counter(r["challenge"] for r in rows) == {
        "minimal_pair": 160,
        "relevance_swap": 100,
        "hard_single": 136,
    }


def test_no_code_names_the_blind_set() -> None:
    """Training code or a fixture that named it would make it a seen set."""
    offenders = []
    for folder in (
        "lapor_triage",
        "models",
        "training",
        "evaluation",
        "service",
        "tests",
        "datasets",
    ):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if rel in ALLOWED:
                continue
            if "challenge_blind" in path.read_text(encoding="utf-8"):
                offenders.append(str(rel))
    assert not offenders, offenders
