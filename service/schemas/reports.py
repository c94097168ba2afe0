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
    kabkota: str | None = Field(None, max_length=200, description=FIELD_DESCRIPTIONS["kabkota"])
    provinsi: str | None = Field(None, max_length=200, description=FIELD_DESCRIPTIONS["provinsi"])
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
    model: str = Field(
        "agency",
        description="the model that ranked the agencies: `agency` (the default model) or "
        "`agency@<penerima>`, the unit model of the report's regional government "
        "(LAPOR_UNIT_MODELS)",
    )


class DispositionSuggestion(ResponseModel):
    instansi: str = Field(description="the instansi to dispose to (kind + region)")
    probability: float
    kind: str = Field(description="the kind of instansi (Dinas Perhubungan, BPJS Kesehatan, ...)")
    region: str | None = Field(
        description="its region or branch (Kota Semarang, KC Sampit); null: national or "
        "region-free (the report names no place at the level this kind needs)"
    )
    evidence: list[str] = Field(description="the place names in the report that matched region")
    seen_in_training: bool = Field(
        description="false for an instansi composed from kind and region, never seen in training"
    )


class DispositionPrediction(ResponseModel):
    label: str = Field(description="the most likely instansi")
    kind: str
    region: str | None
    evidence: list[str]
    abstain: bool = Field(description="true when the model is not sure: Admin Pusat decides")
    top_k: list[DispositionSuggestion]


class TriageResult(ResponseModel):
    id: str
    text: str = Field(description="the cleaned, PII-masked text the models saw")
    report_type: TypePrediction
    agency: AgencyPrediction
    disposition: DispositionPrediction | None = Field(
        None,
        description="national disposition for Admin Pusat (ranked instansi); present only when "
        "a disposition model is loaded (LAPOR_DISPOSITION_MODEL_DIR or the registry)",
    )


class TriageResponse(ResponseModel):
    results: list[TriageResult]
    models: dict[str, str] = Field(
        description="version of each model used, by task (`agency@<penerima>` for a unit model, "
        "`disposition` when one is loaded)"
    )

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
                                "model": "agency",
                            },
                            "disposition": {
                                "label": "Dinas Pekerjaan Umum Kota Surabaya",
                                "kind": "Dinas Pekerjaan Umum",
                                "region": "Kota Surabaya",
                                "evidence": ["wonokromo"],
                                "abstain": False,
                                "top_k": [
                                    {
                                        "instansi": "Dinas Pekerjaan Umum Kota Surabaya",
                                        "probability": 0.74,
                                        "kind": "Dinas Pekerjaan Umum",
                                        "region": "Kota Surabaya",
                                        "evidence": ["wonokromo"],
                                        "seen_in_training": True,
                                    },
                                    {
                                        "instansi": "Dinas Pekerjaan Umum",
                                        "probability": 0.12,
                                        "kind": "Dinas Pekerjaan Umum",
                                        "region": None,
                                        "evidence": [],
                                        "seen_in_training": False,
                                    },
                                ],
                            },
                        }
                    ],
                    "models": {"report-type": "3", "agency": "5", "disposition": "2"},
                }
            ]
        }
    }
