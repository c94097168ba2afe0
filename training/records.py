"""Moved to :mod:`lapor_triage.records`, the core (the JSON Lines reader raises ``DataError``, and
the core may not import training code). This module keeps ``lapor_triage.training.records``
imports working; new code imports :mod:`lapor_triage.records`."""

from lapor_triage.records import DataError, Example, LoadResult, LoadSummary, Skipped

__all__ = ["DataError", "Example", "LoadResult", "LoadSummary", "Skipped"]
