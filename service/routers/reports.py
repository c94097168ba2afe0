"""``POST /v1/reports/triage``: report type and a ranked agency list for one or many reports,
and, when a disposition model is loaded, the national disposition (ranked instansi for Admin
Pusat). The agencies come from the unit model of the report's ``penerima`` when one is loaded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from lapor_triage.fields import report_fields, warn_missing_fields
from lapor_triage.service.deps import KEY_SECURITY, TriageCaller
from lapor_triage.service.errors import InputError
from lapor_triage.service.jsonbody import JsonRoute
from lapor_triage.service.limits import check_batch, check_text, check_total_chars, need_model
from lapor_triage.service.responses import FastJSONResponse
from lapor_triage.service.schemas.common import ERROR_RESPONSES
from lapor_triage.service.schemas.reports import TriageRequest, TriageResponse
from lapor_triage.text import mask_pii, report_text

router = APIRouter(prefix="/v1/reports", tags=["reports"], route_class=JsonRoute)


@router.post(
    "/triage",
    response_model=TriageResponse,
    responses=ERROR_RESPONSES,
    summary="Jenis laporan dan instansi tujuan (report type and agency)",
    openapi_extra=KEY_SECURITY,
)
async def triage(body: TriageRequest, caller: TriageCaller, request: Request) -> FastJSONResponse:
    """Classify each report (pengaduan / aspirasi / permintaan_informasi) and rank the agencies
    that should handle it. ``abstain`` is true when the router is unsure and the report should be
    disposed by hand. The text the models saw is returned with personal data masked.

    Two levels: `disposition` (when a disposition model is loaded) ranks the instansi nationally,
    for Admin Pusat, each with its kind, region and the place names matched (`evidence`);
    `agency` ranks the units inside one government, from the unit model of the report's
    `penerima` when the deployment holds one (`agency.model` names it), else the default model."""
    # The hot path: state, settings and the model set are read here rather than through more
    # dependencies (each costs the dependency solver time on every request), and the answer is
    # written with orjson from plain values (``response_model`` stays for the OpenAPI document).
    state = request.app.state.lapor
    settings = state.settings
    models = state.store.current  # taken once: a reload meanwhile does not affect this request
    check_batch(len(body.reports), "reports", settings)
    total = sum(len(r.isi) + len(r.judul) for r in body.reports)
    check_total_chars(total, "reports", settings)
    if total <= INLINE_CHARS:
        records = _records(body, settings)
    else:  # cleaning a large request in a thread keeps the event loop free for small ones
        records = await run_in_threadpool(_records, body, settings)
    type_model = need_model(models, "report-type")
    agency_model = need_model(models, "agency")
    warn_missing_fields(type_model.predictor, records)
    warn_missing_fields(agency_model.predictor, records)
    top = body.top_k or settings.agency_top_k
    # Runs in the batcher's worker thread, together with other requests queued meanwhile.
    types, agencies, agency_keys, dispositions = await state.batcher.predict(models, records, top)
    used = {"report-type": type_model.version, "agency": agency_model.version}
    for key in dict.fromkeys(agency_keys):
        used[key] = models.get(key).version
    disposition_model = models.get("disposition")
    if disposition_model is not None:
        used["disposition"] = disposition_model.version

    metrics = state.metrics
    metrics.batch_size.observe(len(records), "triage")
    metrics.reports.inc(len(records))
    results = []
    rows = zip(body.reports, records, types, agencies, agency_keys, dispositions, strict=True)
    for report, record, t, a, key, d in rows:
        abstain = bool(a.get("abstain", False))
        if abstain:
            metrics.abstained.inc()
        metrics.report_types.inc(1, str(t["label"]))
        top_k = a.get("top_k") or [
            {"agency": k, "probability": v} for k, v in a["probabilities"].items()
        ]
        result = {
            "id": mask_pii(report.id),
            "text": record["text"],
            "report_type": {
                "label": str(t["label"]),
                "probabilities": _floats(t["probabilities"]),
            },
            "agency": {
                "label": str(a["label"]),
                "abstain": abstain,
                "top_k": [
                    {"agency": str(r["agency"]), "probability": float(r["probability"])}
                    for r in top_k[:top]
                ],
                "model": key,
            },
        }
        if d is not None:  # absent without a disposition model: the answer is as before
            result["disposition"] = _disposition(d, top)
        results.append(result)
    return FastJSONResponse({"results": results, "models": used})


def _disposition(d: dict, top: int) -> dict:
    """The disposition answer (schemas.reports.DispositionPrediction) from
    ``DispositionModel.predict_records``' output, as plain JSON values."""
    return {
        "label": str(d["label"]),
        "kind": str(d["kind"]),
        "region": None if d.get("region") is None else str(d["region"]),
        "evidence": [str(e) for e in d.get("evidence") or []],
        "abstain": bool(d.get("abstain", False)),
        "top_k": [
            {
                "instansi": str(s["instansi"]),
                "probability": float(s["probability"]),
                "kind": str(s["kind"]),
                "region": None if s.get("region") is None else str(s["region"]),
                "evidence": [str(e) for e in s.get("evidence") or []],
                "seen_in_training": bool(s.get("seen_in_training", False)),
            }
            for s in d["top_k"][:top]
        ],
    }


INLINE_CHARS = 20_000
"""Requests with up to this many characters are cleaned on the event loop (cheaper than a
thread hand-off); larger ones in the thread pool."""


def _records(body: TriageRequest, settings) -> list[dict]:
    """The model inputs of each report: cleaned, masked text and the location fields."""
    records = []
    for i, report in enumerate(body.reports):
        check_text(report.isi, f"reports[{i}].isi", settings)
        check_text(report.judul, f"reports[{i}].judul", settings)
        text = report_text(report.judul, report.isi)
        if not text.strip():
            raise InputError(f"reports[{i}].isi", "no text left after removing HTML and spaces")
        # The report fields as the CLI and the pyfunc read them (lapor_triage.fields); an unknown
        # penerima is the instansi this deployment serves (LAPOR_PENERIMA), when set.
        record = {"text": text, **report_fields(vars(report))}
        if "penerima" not in record and settings.penerima:
            record["penerima"] = settings.penerima
        records.append(record)
    return records


def _floats(values: dict) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items()}
