"""``POST /v1/replies/assess`` and ``POST /v1/replies`` (the reply bank)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from lapor_triage.service.schemas.common import (
    NonBlankStr,
    OptionalIdStr,
    RequestModel,
    ResponseModel,
)

REPLY_EXAMPLE = {
    "id": "TL-000045",
    "report_text": "Jalan di depan SDN 3 Kenanga berlubang besar dan belum diperbaiki.",
    "reply_text": "Terima kasih atas laporan Saudara. Lubang di depan SDN 3 Kenanga sudah kami "
    "tambal pada Senin, 12 Februari 2024 oleh tim UPT Jalan dan Jembatan Wilayah Selatan.",
    "agency": "Dinas Pekerjaan Umum",
}
NORMATIF_EXAMPLE = {
    "id": "TL-000046",
    "report_text": "Lampu PJU di Jalan Melati mati sejak seminggu.",
    "reply_text": "Terima kasih atas laporannya, akan segera kami tindak lanjuti sesuai ketentuan.",
    "agency": "Dinas Perhubungan",
}


class ReplyIn(RequestModel):
    id: OptionalIdStr = Field(None, description="your id for this reply (string or integer)")
    report_text: NonBlankStr = Field(description="the report the reply answers")
    reply_text: NonBlankStr = Field(description="the drafted follow-up (tindak lanjut)")
    agency: NonBlankStr = Field(max_length=300, description="the agency writing the reply")


class AssessRequest(RequestModel):
    items: list[ReplyIn] = Field(min_length=1, description="one or more replies to judge")

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"items": [REPLY_EXAMPLE, NORMATIF_EXAMPLE]}]},
    )


class Evidence(ResponseModel):
    """A span of ``reply_text`` that drove the verdict."""

    model_config = ConfigDict(extra="allow")

    start: int
    end: int
    text: str | None = None
    reason: str | None = None


class AssessResult(ResponseModel):
    id: str | None
    reply_text: str = Field(description="the cleaned, PII-masked reply; evidence spans index it")
    label: str = Field(description="normatif or substantif")
    probabilities: dict[str, float]
    reasons: list[str] = Field(description="reason codes of the guideline")
    evidence: list[Evidence]
    relevance: float | None = Field(None, description="how well the reply fits this report")
    template_reuse: dict[str, Any] | None = Field(
        None, description="closest earlier reply of the same agency and its similarity"
    )
    bank_size: int = Field(description="earlier replies of the agency compared against")


class AssessResponse(ResponseModel):
    results: list[AssessResult]
    models: dict[str, str]

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "id": "TL-000046",
                            "reply_text": NORMATIF_EXAMPLE["reply_text"],
                            "label": "normatif",
                            "probabilities": {"normatif": 0.94, "substantif": 0.06},
                            "reasons": ["janji_tanpa_rincian"],
                            "evidence": [
                                {
                                    "start": 26,
                                    "end": 58,
                                    "text": "akan segera kami tindak lanjuti",
                                    "reason": "janji_tanpa_rincian",
                                }
                            ],
                            "relevance": 0.12,
                            "template_reuse": {"similarity": 0.97, "reply_text": "..."},
                            "bank_size": 40,
                        }
                    ],
                    "models": {"reply-quality": "2"},
                }
            ]
        },
    )


class StoredReplyIn(RequestModel):
    report_id: OptionalIdStr = Field(None, description="string or integer")
    reply_text: NonBlankStr
    agency: NonBlankStr = Field(max_length=300)


class StoreRepliesRequest(RequestModel):
    replies: list[StoredReplyIn] = Field(min_length=1, description="replies the agency sent")

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "replies": [
                        {
                            "report_id": "LAP-2024-000099",
                            "reply_text": NORMATIF_EXAMPLE["reply_text"],
                            "agency": "Dinas Perhubungan",
                        }
                    ]
                }
            ]
        },
    )


class StoreRepliesResponse(ResponseModel):
    stored: int
