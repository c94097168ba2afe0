"""``POST /v1/feedback`` (an admin's decision, stored durably) and ``GET /v1/feedback/export``
(all decisions as training JSONL for ``lapor-triage train --data``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.responses import StreamingResponse

from lapor_triage.jsonl import json_line
from lapor_triage.service.auth import Principal, Role, same_agency
from lapor_triage.service.deps import (
    AppState,
    DbDep,
    ExportCaller,
    FeedbackCaller,
    SettingsDep,
    StateDep,
    forbid_other_agency,
)
from lapor_triage.service.errors import InputError
from lapor_triage.service.jsonbody import JsonRoute
from lapor_triage.service.limits import check_text
from lapor_triage.service.schemas.common import ERROR_RESPONSES
from lapor_triage.service.schemas.feedback import (
    FEEDBACK_EXAMPLES,
    FeedbackExportRow,
    FeedbackIn,
    FeedbackStored,
    ReplyFeedback,
    TriageFeedback,
)
from lapor_triage.service.tables import Feedback
from lapor_triage.text import clean_text, one_line, report_text

router = APIRouter(prefix="/v1/feedback", tags=["feedback"], route_class=JsonRoute)


@router.post(
    "",
    status_code=201,
    response_model=FeedbackStored,
    responses=ERROR_RESPONSES,
    summary="Simpan keputusan admin (store an admin's decision)",
)
def post_feedback(
    body: Annotated[FeedbackIn, Body(openapi_examples=FEEDBACK_EXAMPLES)],
    caller: FeedbackCaller,
    db: DbDep,
    settings: SettingsDep,
    state: StateDep,
) -> dict:
    """Store the decision an admin made: for a triage, the agency the report went to (accepted
    or overridden) and the corrected type; for a reply, the label normatif/substantif. The row is
    committed before the answer is sent (201); texts are masked before they are stored."""
    return store_feedback(body, caller, state)


def store_feedback(
    body: TriageFeedback | ReplyFeedback, caller: Principal, state: AppState
) -> dict:
    """Check and store one decision (the API route and the admin console both call this)."""
    db, settings = state.db, state.settings
    if isinstance(body, TriageFeedback):
        check_text(body.isi, "isi", settings)
        check_text(body.judul, "judul", settings)
        check_triage_authority(caller, body)
        text = report_text(body.judul, body.isi)
        if not text.strip():
            raise InputError("isi", "no text left after removing HTML and spaces")
        fields = {
            "kind": "triage",
            "level": body.level,
            "report_id": body.report_id.strip(),
            "text": text,
            "report_type": body.report_type,
            "agency": " ".join(body.agency.split()),
            "predicted_agency": body.predicted_agency,
            "decision": body.decision,
            "reply_text": None,
            "reply_label": None,
            "kecamatan": one_line(body.kecamatan),
            "kelurahan": one_line(body.kelurahan),
            # as in triage: the report's own instansi, else the one this deployment serves
            "penerima": one_line(body.penerima) or settings.penerima,
        }
    else:
        assert isinstance(body, ReplyFeedback)
        forbid_other_agency(caller, body.agency, "agency")
        check_text(body.report_text, "report_text", settings)
        check_text(body.reply_text, "reply_text", settings)
        reply = clean_text(body.reply_text, salutation=False)
        if not reply.strip():
            raise InputError("reply_text", "no text left after removing HTML and spaces")
        fields = {
            "kind": "reply",
            "level": None,
            "report_id": body.report_id.strip(),
            "text": clean_text(body.report_text),
            "report_type": None,
            "agency": " ".join(body.agency.split()),
            "predicted_agency": None,
            "decision": body.decision,
            "reply_text": reply,
            "reply_label": body.reply_label,
            "kecamatan": None,
            "kelurahan": None,
            "penerima": None,
        }
    weight = (
        settings.feedback_weight_overridden
        if fields["decision"] == "overridden"
        else settings.feedback_weight_accepted
    )
    row = db.add_feedback(
        **fields,
        weight=weight,
        actor_key_id=caller.key_id,
        actor_role=caller.role.value,
        audit={
            "key_id": caller.key_id,
            "role": caller.role.value,
            "action": f"feedback.{fields['kind']}",
            "target": fields["report_id"],
            "detail": {"decision": fields["decision"], "level": fields["level"]},
        },
    )
    state.metrics.feedback.inc(1, fields["kind"], str(fields["decision"]))
    return {
        "id": row.id,
        "kind": row.kind,
        "report_id": row.report_id,
        "created_at": _iso(row.created_at),
    }


@router.get(
    "/export",
    responses={
        **ERROR_RESPONSES,
        200: {
            "content": {
                "application/x-ndjson": {
                    "schema": FeedbackExportRow.model_json_schema(),
                    "example": '{"kind": "triage", "level": "unit", "report_id": "LAP-2024-000123", '
                    '"text": "Jalan berlubang ...", "report_type": "pengaduan", '
                    '"agency": "Dinas Pekerjaan Umum", "decision": "overridden", '
                    '"reply_text": null, "reply_label": null, '
                    '"kecamatan": "Wonokromo", "kelurahan": "Ngagel Rejo", '
                    '"penerima": "Pemerintah Kota Surabaya", '
                    '"created_at": "2024-02-12T08:30:00+00:00", "weight": 1.0}\n',
                }
            },
            "description": "one JSON object per line (training JSONL)",
        },
    },
    response_class=StreamingResponse,
    summary="Ekspor umpan balik sebagai JSONL pelatihan (export feedback as training JSONL)",
)
def export_feedback(
    caller: ExportCaller,
    db: DbDep,
    kind: Annotated[Literal["triage", "reply"] | None, Query(description="only this kind")] = None,
    level: Annotated[
        Literal["unit", "disposition"] | None,
        Query(description="only triage decisions of this level"),
    ] = None,
    since: Annotated[
        datetime | None, Query(description="only feedback stored at or after this time (ISO 8601)")
    ] = None,
) -> StreamingResponse:
    """All stored feedback, oldest first, one JSON object per line in the format that
    ``lapor-triage train --data FEEDBACK.jsonl`` reads."""
    if since is not None:
        since = _utc(since)  # checked here: once the 200 is sent, an error can only cut the stream
    db.audit(
        key_id=caller.key_id,
        role=caller.role.value,
        action="feedback.export",
        detail={"kind": kind, "level": level, "since": since.isoformat() if since else None},
    )

    def lines() -> Iterator[str]:
        for row in db.iter_feedback(kind=kind, since=since, level=level):
            yield json_line(export_row(row)) + "\n"

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="feedback.jsonl"'},
    )


def check_triage_authority(caller: Principal, body: TriageFeedback) -> None:
    """Who may say what in triage feedback (the training labels of the agency router and of the
    disposition model):

    - admin_pusat and admin decide dispositions for every agency, at both levels;
    - the national disposition (``level`` ``disposition``) is Admin Pusat's alone: an
      admin_instansi key gets 403;
    - an admin_instansi only answers for a disposition addressed to its own agency:
      ``predicted_agency`` must be its agency; it may accept it (``agency`` = its own) or
      reject it and name where the report belongs (``overridden``, ``agency`` = another one).
    Anything else is 403."""
    if caller.role is not Role.admin_instansi:
        return
    if body.level == "disposition":
        raise HTTPException(
            403,
            "level: the national disposition (level 'disposition') is decided by admin_pusat; "
            "an admin_instansi key gives unit-level feedback only",
        )
    if not body.predicted_agency or not same_agency(body.predicted_agency, caller.agency):
        raise HTTPException(
            403,
            f"predicted_agency: an admin_instansi key gives triage feedback only on a "
            f"disposition addressed to its own agency ({caller.agency!r}): set predicted_agency "
            f"to it; dispositions of other agencies are decided by admin_pusat",
        )


def _utc(since: datetime) -> datetime:
    """``since`` in UTC; a 422 naming the field when that is outside the years 1-9999."""
    if since.tzinfo is None:
        return since.replace(tzinfo=timezone.utc)
    try:
        return since.astimezone(timezone.utc)
    except OverflowError:
        raise InputError(
            "since", f"{since.isoformat()} is outside the years 1-9999 in UTC"
        ) from None


def export_row(row: Feedback) -> dict:
    return {
        "kind": row.kind,
        "level": (row.level or "unit") if row.kind == "triage" else None,
        "report_id": row.report_id,
        "text": row.text,
        "report_type": row.report_type,
        "agency": row.agency,
        "decision": row.decision,
        "reply_text": row.reply_text,
        "reply_label": row.reply_label,
        "kecamatan": row.kecamatan,
        "kelurahan": row.kelurahan,
        "penerima": row.penerima,
        "created_at": _iso(row.created_at),
        "weight": float(row.weight),
    }


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")
