"""Moved to :mod:`lapor_triage.labels`, the core (the service normalises agency names too, and
the service may not import training code). This module keeps ``lapor_triage.training.labels``
imports working; new code imports :mod:`lapor_triage.labels`."""

from lapor_triage.labels import (
    REPORT_TYPES,
    AgencyNormaliser,
    UnknownLabelError,
    agency_key,
    canonical_agency,
    normalise_report_type,
)

__all__ = [
    "REPORT_TYPES",
    "AgencyNormaliser",
    "UnknownLabelError",
    "agency_key",
    "canonical_agency",
    "normalise_report_type",
]
