"""``POST /v1/replies/assess`` (is a drafted follow-up normatif?) and ``POST /v1/replies``
(store replies an agency sent: the bank that template reuse is measured against)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lapor_triage.models.reply_quality import EmptyReplyError
from lapor_triage.service.auth import normalise_agency
from lapor_triage.service.deps import (
    AssessCaller,
    DbDep,
    ModelsDep,
    RepliesCaller,
    SettingsDep,
    StateDep,
    forbid_other_agency,
)
from lapor_triage.service.errors import InputError
from lapor_triage.service.jsonbody import JsonRoute
from lapor_triage.service.limits import check_batch, check_text, check_total_chars, need_model
from lapor_triage.service.schemas.common import ERROR_RESPONSES
from lapor_triage.service.schemas.replies import (
    AssessRequest,
    AssessResponse,
    StoreRepliesRequest,
    StoreRepliesResponse,
)
from lapor_triage.text import clean_text, mask_pii

router = APIRouter(prefix="/v1/replies", tags=["replies"], route_class=JsonRoute)


@router.post(
    "/assess",
    response_model=AssessResponse,
    responses=ERROR_RESPONSES,
    summary="Cek tindak lanjut: normatif atau substantif (reply quality)",
)
def assess(
    body: AssessRequest,
    caller: AssessCaller,
    models: ModelsDep,
    settings: SettingsDep,
    db: DbDep,
    state: StateDep,
) -> dict:
    """Judge each drafted reply against its report: ``normatif`` (boilerplate, promises without
    detail, off-topic) or ``substantif`` (a concrete action, date, place, unit). ``evidence`` holds
    character spans of the returned ``reply_text``; ``template_reuse`` is the closest reply the same
    agency stored earlier (``POST /v1/replies``) and its similarity."""
    check_batch(len(body.items), "items", settings)
    check_total_chars(
        sum(len(i.report_text) + len(i.reply_text) for i in body.items), "items", settings
    )
    records: list[dict[str, Any]] = []
    for i, item in enumerate(body.items):
        forbid_other_agency(caller, item.agency, f"items[{i}].agency")
        check_text(item.report_text, f"items[{i}].report_text", settings)
        check_text(item.reply_text, f"items[{i}].reply_text", settings)
        reply = clean_text(item.reply_text, salutation=False)
        if not reply.strip():
            raise InputError(
                f"items[{i}].reply_text", "nothing to judge: no text left after removing HTML"
            )
        records.append(
            {
                "report_text": clean_text(item.report_text),
                "reply_text": reply,
                "agency": " ".join(item.agency.split()),
            }
        )
    scorer = need_model(models, "reply-quality")
    bank = {
        agency: db.recent_replies(normalise_agency(agency), settings.reply_bank_size)
        for agency in {r["agency"] for r in records}
    }
    try:
        outputs = scorer.predictor.predict_records(records, reply_bank=bank)
    except EmptyReplyError as exc:
        raise InputError("items", str(exc)) from exc

    metrics = state.metrics
    metrics.batch_size.observe(len(records), "assess")
    results = []
    for item, record, out in zip(body.items, records, outputs, strict=True):
        metrics.replies.inc(1, str(out["label"]))
        results.append(
            {
                "id": mask_pii(item.id) if item.id is not None else None,
                "reply_text": record["reply_text"],
                "label": out["label"],
                "probabilities": out["probabilities"],
                "reasons": list(out.get("reasons", [])),
                "evidence": list(out.get("evidence", [])),
                "relevance": out.get("relevance"),
                "template_reuse": out.get("template_reuse"),
                "bank_size": len(bank.get(record["agency"], [])),
            }
        )
    return {"results": results, "models": {"reply-quality": scorer.version}}


@router.post(
    "",
    status_code=201,
    response_model=StoreRepliesResponse,
    responses=ERROR_RESPONSES,
    summary="Simpan tindak lanjut terkirim (store sent replies for template-reuse checks)",
)
def store_replies(
    body: StoreRepliesRequest, caller: RepliesCaller, db: DbDep, settings: SettingsDep
) -> dict:
    """Store replies an agency has sent. Later assessments of the same agency are compared
    with them to flag copy-paste templates. Personal data is masked before storing."""
    check_batch(len(body.replies), "replies", settings)
    rows = []
    for i, reply in enumerate(body.replies):
        forbid_other_agency(caller, reply.agency, f"replies[{i}].agency")
        check_text(reply.reply_text, f"replies[{i}].reply_text", settings)
        text = clean_text(reply.reply_text, salutation=False)
        if not text.strip():
            raise InputError(f"replies[{i}].reply_text", "no text left after removing HTML")
        rows.append(
            {
                "agency": normalise_agency(reply.agency),
                "report_id": reply.report_id,
                "reply_text": text,
            }
        )
    stored = db.add_replies(
        rows,
        audit={
            "key_id": caller.key_id,
            "role": caller.role.value,
            "action": "replies.store",
            "detail": {"count": len(rows)},
        },
    )
    return {"stored": stored}
