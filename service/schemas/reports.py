"""``POST /v1/reports/triage``."""

from __future__ import annotations

from pydantic import Field

from lapor_triage.fields import FIELD_DESCRIPTIONS
from lapor_triage.service.schemas.common import IdStr, NonBlankStr, RequestModel, ResponseModel

REPORT_EXAMPLE = {
    "id": "LAP-2024-000123",
    "judul": "Jalan berlubang di Jalan Kenanga",
    "isi": "Jalan di depan SDN 3 Kenanga berlubang besar dan sudah dua minggu tidak diperbaiki. "
    "Mohon segera ditambal karena membahayakan pengendara motor. Hubungi saya di 081234567890.",
    "kecamatan": "Wonokromo",
    "kelurahan": "Ngagel Rejo",
    "kategori": "Infrastruktur",
    "penerima": "Pemerintah Kota Surabaya",
}


class ReportIn(RequestModel):
    id: IdStr = Field(description="the report's id in LAPOR! (string or integer)")
    judul: str = Field("", description="title of the report (may be empty)")
    isi: NonBlankStr = Field(description="the citizen's report text")
    # The report fields of lapor_triage.fields (the CLI and the pyfunc take the same).
    kecamatan: str | None = Field(None, max_length=200, description=FIELD_DESCRIPTIONS["kecamatan"])
    kelurahan: str | None = Field(None, max_length=200, description=FIELD_DESCRIPTIONS["kelurahan"])
    kategori: str | None = Field(None, max_length=200, description=FIELD_DESCRIPTIONS["kategori"])
    penerima: str | None = Field(
        None,
        max_length=300,
        description=FIELD_DESCRIPTIONS["penerima"] + " (default LAPOR_PENERIMA)",
    )


class TriageRequest(RequestModel):
    reports: list[ReportIn] = Field(
        min_length=1, description="one or more reports (at most LAPOR_MAX_BATCH)"
    )
    top_k: int | None = Field(
        None, ge=1, le=50, description="agencies to return per report (default LAPOR_AGENCY_TOP_K)"
    )

    model_config = {"json_schema_extra": {"examples": [{"reports": [REPORT_EXAMPLE]}]}}


class TypePrediction(ResponseModel):
    label: str = Field(description="pengaduan, aspirasi or permintaan_informasi")
    probabilities: dict[str, float]


class RankedAgency(ResponseModel):
    agency: str
    probability: float


class AgencyPrediction(ResponseModel):
    label: str = Field(description="the most likely agency")
    abstain: bool = Field(description="true when the router is not sure: dispose by hand")
    top_k: list[RankedAgency]


class TriageResult(ResponseModel):
    id: str
    text: str = Field(description="the cleaned, PII-masked text the models saw")
    report_type: TypePrediction
    agency: AgencyPrediction


class TriageResponse(ResponseModel):
    results: list[TriageResult]
    models: dict[str, str] = Field(description="version of each model used, by task")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "results": [
                        {
                            "id": "LAP-2024-000123",
                            "text": "Jalan berlubang di Jalan Kenanga\nJalan di depan SDN 3 Kenanga "
                            "berlubang besar ... Hubungi saya di [TELEPON].",
                            "report_type": {
                                "label": "pengaduan",
                                "probabilities": {
                                    "pengaduan": 0.91,
                                    "aspirasi": 0.06,
                                    "permintaan_informasi": 0.03,
                                },
                            },
                            "agency": {
                                "label": "Dinas Pekerjaan Umum",
                                "abstain": False,
                                "top_k": [
                                    {"agency": "Dinas Pekerjaan Umum", "probability": 0.82},
                                    {"agency": "Kelurahan Ngagel Rejo", "probability": 0.09},
                                ],
                            },
                        }
                    ],
                    "models": {"report-type": "3", "agency": "5"},
                }
            ]
        }
    }
