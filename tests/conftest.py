"""Shared fixtures. Real data is read from ../shared/data beside the project root, never copied."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DEMO_DIR = ROOT / "datasets" / "demo"


def shared_file(name: str) -> Path:
    """Path of a real data file in ../shared/data, or skip the test with a clear message."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real data {path} is absent (../shared/data is not beside the project root)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


def pytest_configure(config: pytest.Config) -> None:
    """Keep test runs out of the project's own MLflow store, database and default models."""
    if not os.environ.get("LAPOR_TRIAGE_HOME"):
        os.environ["LAPOR_TRIAGE_HOME"] = tempfile.mkdtemp(prefix="lapor-triage-test-home-")
