"""``POST /v1/reports/triage``: report type and a ranked agency list for one or many reports."""

from __future__ import annotations

from fastapi import APIRouter

from lapor_triage.text import report_text
from service.deps import ModelsDep, SettingsDep, StateDep, TriageCaller
from service.errors import InputError
from service.limits import check_batch, check_text, need_model
from service.schemas.common import ERROR_RESPONSES
from service.schemas.reports import TriageRequest, TriageResponse

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.post(
    "/triage",
    response_model=TriageResponse,
    responses=ERROR_RESPONSES,
    summary="Jenis laporan dan instansi tujuan (report type and agency)",
)
async def triage(
    body: TriageRequest,
    caller: TriageCaller,
    models: ModelsDep,
    settings: SettingsDep,
    state: StateDep,
) -> dict:
    """Classify each report (pengaduan / aspirasi / permintaan_informasi) and rank the agencies
    that should handle it. ``abstain`` is true when the router is unsure and the report should be
    disposed by hand. The text the models saw is returned with personal data masked."""
    check_batch(len(body.reports), "reports", settings)
    records = []
    for i, report in enumerate(body.reports):
        check_text(report.isi, f"reports[{i}].isi", settings)
        check_text(report.judul, f"reports[{i}].judul", settings)
        text = report_text(report.judul, report.isi)
        if not text.strip():
            raise InputError(f"reports[{i}].isi", "no text left after removing HTML and spaces")
        record = {"text": text}
        for name in ("kecamatan", "kelurahan", "kategori"):
            value = getattr(report, name)
            if value and value.strip():
                record[name] = value.strip()
        records.append(record)
    type_model = need_model(models, "report-type")
    agency_model = need_model(models, "agency")
    top = body.top_k or settings.agency_top_k
    # Runs in the batcher's worker thread, together with other requests queued meanwhile.
    types, agencies = await state.batcher.predict(models, records, top)

    metrics = state.metrics
    metrics.batch_size.observe(len(records), "triage")
    metrics.reports.inc(len(records))
    results = []
    for report, record, t, a in zip(body.reports, records, types, agencies, strict=True):
        abstain = bool(a.get("abstain", False))
        if abstain:
            metrics.abstained.inc()
        metrics.report_types.inc(1, str(t["label"]))
        top_k = a.get("top_k") or [
            {"agency": k, "probability": v} for k, v in a["probabilities"].items()
        ]
        results.append(
            {
                "id": report.id,
                "text": record["text"],
                "report_type": {"label": t["label"], "probabilities": t["probabilities"]},
                "agency": {"label": a["label"], "abstain": abstain, "top_k": top_k[:top]},
            }
        )
    return {
        "results": results,
        "models": {"report-type": type_model.version, "agency": agency_model.version},
    }
