"""``POST /v1/feedback`` and the export format of ``GET /v1/feedback/export``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from lapor_triage.service.schemas.common import IdStr, NonBlankStr, RequestModel, ResponseModel

ReportType = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
ReplyLabel = Literal["normatif", "substantif"]
Decision = Literal["accepted", "overridden"]
Level = Literal["unit", "disposition"]


class TriageFeedback(RequestModel):
    """A decision on a triage: where the report went (at one level), and its type.

    ``level`` says which suggestion was decided: ``unit`` (default), the unit inside one regional
    government that the agency router ranks (``agency`` in the triage answer); ``disposition``,
    the instansi Admin Pusat disposes the report to nationally (``disposition`` in the triage
    answer). For ``disposition``, ``agency`` / ``predicted_agency`` hold instansi names."""

    kind: Literal["triage"]
    level: Level = Field(
        "unit",
        description="unit: a decision on the unit-level agency suggestion; disposition: Admin "
        "Pusat's decision on the national disposition (the instansi)",
    )
    report_id: IdStr = Field(description="the report's id in LAPOR! (string or integer)")
    judul: str = Field("", description="title of the report")
    isi: NonBlankStr = Field(description="the report text (masked before it is stored)")
    decision: Decision = Field(
        description="accepted: the suggested agency was used; overridden: another one was chosen"
    )
    agency: NonBlankStr = Field(
        max_length=300,
        description="the agency (unit) the report went to; for level disposition, the instansi",
    )
    predicted_agency: str | None = Field(
        None,
        max_length=300,
        description="the agency the service suggested; for level disposition, the instansi",
    )
    report_type: ReportType | None = Field(None, description="the (corrected) report type")
    kecamatan: str | None = Field(
        None, max_length=200, description="sub-district of the report, if known (stored masked)"
    )
    kelurahan: str | None = Field(
        None, max_length=200, description="village of the report, if known (stored masked)"
    )
    penerima: str | None = Field(
        None,
        max_length=300,
        description="the instansi whose LAPOR! queue received the report, if known "
        "(default LAPOR_PENERIMA; stored masked)",
    )

    @model_validator(mode="after")
    def _accepted_matches(self) -> TriageFeedback:
        if (
            self.decision == "accepted"
            and self.predicted_agency
            and " ".join(self.predicted_agency.split()).casefold()
            != " ".join(self.agency.split()).casefold()
        ):
            raise ValueError(
                "decision 'accepted' but agency differs from predicted_agency; "
                "use decision 'overridden'"
            )
        return self


class ReplyFeedback(RequestModel):
    """An admin's verdict on a reply: normatif or substantif."""

    kind: Literal["reply"]
    report_id: IdStr = Field(description="the report's id in LAPOR! (string or integer)")
    report_text: NonBlankStr
    reply_text: NonBlankStr
    agency: NonBlankStr = Field(max_length=300)
    reply_label: ReplyLabel
    decision: Decision | None = Field(
        None, description="accepted: the service's label was right; overridden: it was not"
    )


FeedbackIn = Annotated[TriageFeedback | ReplyFeedback, Field(discriminator="kind")]

FEEDBACK_EXAMPLES = {
    "triage_overridden": {
        "summary": "Disposisi dialihkan ke instansi lain",
        "value": {
            "kind": "triage",
            "report_id": "LAP-2024-000123",
            "judul": "Jalan berlubang di Jalan Kenanga",
            "isi": "Jalan di depan SDN 3 Kenanga berlubang besar dan sudah dua minggu tidak "
            "diperbaiki.",
            "decision": "overridden",
            "predicted_agency": "Kelurahan Ngagel Rejo",
            "agency": "Dinas Pekerjaan Umum",
            "report_type": "pengaduan",
            "kecamatan": "Wonokromo",
            "kelurahan": "Ngagel Rejo",
            "penerima": "Pemerintah Kota Surabaya",
        },
    },
    "disposition_overridden": {
        "summary": "Disposisi nasional (Admin Pusat) dialihkan ke instansi lain",
        "value": {
            "kind": "triage",
            "level": "disposition",
            "report_id": "LAP-2024-000125",
            "judul": "Lampu PJU mati",
            "isi": "Lampu PJU di Jl. Pemuda Semarang mati sejak seminggu.",
            "decision": "overridden",
            "predicted_agency": "Dinas Pekerjaan Umum Kota Semarang",
            "agency": "Dinas Perhubungan Kota Semarang",
            "report_type": "pengaduan",
        },
    },
    "reply_label": {
        "summary": "Tindak lanjut dinilai normatif",
        "value": {
            "kind": "reply",
            "report_id": "LAP-2024-000124",
            "report_text": "Lampu PJU di Jalan Melati mati sejak seminggu.",
            "reply_text": "Terima kasih, laporan akan segera kami tindak lanjuti.",
            "agency": "Dinas Perhubungan",
            "reply_label": "normatif",
            "decision": "accepted",
        },
    },
}


class FeedbackStored(ResponseModel):
    id: int
    kind: str
    report_id: str
    created_at: str


class FeedbackExportRow(ResponseModel):
    """One line of the training JSONL (what ``lapor-triage train --data`` reads)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["triage", "reply"]
    level: Level | None = Field(
        description="triage: unit (the unit-level agency) or disposition (the national instansi, "
        "used by `lapor-triage train --task disposition`); null for reply"
    )
    report_id: str
    text: str
    report_type: str | None
    agency: str | None
    decision: str | None
    reply_text: str | None
    reply_label: str | None
    kecamatan: str | None = Field(description="sub-district of the report (triage), masked")
    kelurahan: str | None = Field(description="village of the report (triage), masked")
    penerima: str | None = Field(
        description="the instansi whose LAPOR! queue received the report (triage), masked"
    )
    created_at: str
    weight: float
