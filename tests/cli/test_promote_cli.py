"""`lapor-triage promote` and `lapor-triage models` on a real MLflow SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lapor_triage.cli import main
from lapor_triage.training import promotion, registry
from tests.training.test_tracking import (  # noqa: F401  (store is a fixture)
    EVAL_LABELS,
    EVAL_RECORDS,
    TASK,
    store,
    train_and_log,
)


@pytest.fixture(scope="module")
def versions(store: Path) -> list[int]:  # noqa: F811
    good = train_and_log(store, "cli-good")
    worse = train_and_log(store, "cli-worse", worse=True)
    return [good.tracking.model_version, worse.tracking.model_version]


def _first_is_champion(versions: list[int]) -> None:
    """Make the tests independent of selection: version 1 is champion unless one was forced."""
    if registry.get_champion(TASK) is None:
        promotion.promote(TASK, versions[0])


def test_models_lists_versions_before_any_champion(
    versions: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "--task", TASK]) == 0
    out = capsys.readouterr().out
    assert "lapor-triage-report-type" in out
    assert "macro_f1" in out
    assert "champion" in out  # the column header
    assert "★ champion" not in out


def test_promote_first_version_exits_0(
    versions: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["promote", "--task", TASK, "--version", str(versions[0])]) == 0
    assert "no champion yet" in capsys.readouterr().out


def test_worse_version_is_refused_with_exit_1_and_a_comparison(
    versions: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    _first_is_champion(versions)
    code = main(["promote", "--task", TASK, "--version", str(versions[1]), "--margin", "0.02"])
    out = capsys.readouterr().out
    assert code == 1
    assert "refused" in out
    assert f"champion v{versions[0]}" in out and f"candidate v{versions[1]}" in out
    assert "macro_f1 (primary)" in out and "accuracy" in out
    assert "margin: 0.02" in out
    assert "paired bootstrap 95% interval" in out  # the difference comes with its interval


def test_eval_data_file_is_used_for_the_comparison(
    versions: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _first_is_champion(versions)
    path = tmp_path / "eval.jsonl"
    path.write_text(
        "".join(
            json.dumps({"record": r, "label": y}) + "\n"
            for r, y in zip(EVAL_RECORDS[:5], EVAL_LABELS[:5], strict=True)
        )
    )
    code = main(
        ["promote", "--task", TASK, "--version", str(versions[1]), "--eval-data", str(path)]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "on 5 rows" in out and "given evaluation data" in out


def test_force_promotes_with_exit_0_and_models_shows_the_champion(
    versions: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    _first_is_champion(versions)
    code = main(
        [
            "promote",
            "--task",
            TASK,
            "--version",
            str(versions[1]),
            "--force",
            "--reason",
            "test the override",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "FORCED" in out
    assert main(["models", "--task", TASK]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if "★ champion" in line)
    assert f" {versions[1]} " in row
    assert "forced promotion" in row


def test_unknown_version_exits_2(versions: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["promote", "--task", TASK, "--version", "999"]) == 2
    assert "has no version 999" in capsys.readouterr().err


def test_models_for_a_task_without_versions(
    versions: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "--task", "agency"]) == 0
    assert "lapor-triage-agency: no versions registered yet" in capsys.readouterr().out
