"""Monev: share of normatif replies per agency and month (chart and table), the most reused
templates, filters by period and agency, CSV download; an agency's admin sees its own agency."""

from __future__ import annotations

import io

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from lapor_triage.errors import DataError
from lapor_triage.service.auth import Principal, Role
from lapor_triage.service.console.web import MonevView, render
from lapor_triage.service.deps import AppState

router = APIRouter(prefix="/console")

MONEV_LIMIT = 5000


def _monev_rows(
    state: AppState, principal: Principal, agency: str, start: str, end: str
) -> tuple[list[dict], dict[str, list[dict]], int]:
    """Share of normatif replies per agency and month over the stored replies (``POST
    /v1/replies``), judged by the loaded reply-quality model, in the table of
    :func:`lapor_triage.evaluation.monev.monev_table` (the ``lapor-triage monev`` report)."""
    from sqlalchemy import select

    from lapor_triage.monev_table import monev_table
    from lapor_triage.service.auth import normalise_agency
    from lapor_triage.service.tables import StoredReply

    scorer = state.store.current.get("reply-quality")
    if scorer is None:
        raise DataError("model mutu tindak lanjut belum dimuat (lihat /readyz)")
    query = select(StoredReply.agency, StoredReply.reply_text, StoredReply.created_at)
    if principal.role is Role.admin_instansi:
        query = query.where(StoredReply.agency == normalise_agency(principal.agency))
    elif agency.strip():
        query = query.where(StoredReply.agency == normalise_agency(agency))
    query = query.order_by(StoredReply.id.desc()).limit(MONEV_LIMIT)
    with state.db.session() as db_session:
        stored = list(db_session.execute(query))
    records = []
    for name, text, created in stored:
        month = created.strftime("%Y-%m") if created else ""
        if (start and month < start) or (end and month > end):
            continue
        records.append({"report_text": "", "reply_text": text, "agency": name, "month": month})
    if not records:
        return [], {}, 0
    verdicts = scorer.predictor.predict_records(records)
    rows, templates = monev_table(records, verdicts)
    return rows, templates, len(records)


def _chart(rows: list[dict]) -> list[dict]:
    """Bars of an inline SVG chart: share normatif per agency and month."""
    monthly = [r for r in rows if r["month"]] or [r for r in rows if not r["month"]]
    return [
        {
            "label": f"{r['agency']} {r['month']}".strip(),
            "share": float(r["share_normatif"]),
            "n": r["n_replies"],
            "y": 8 + i * 26,
        }
        for i, r in enumerate(monthly[:60])
    ]


@router.get("/monev")
async def monev_page(request: Request, session: MonevView) -> Response:
    state: AppState = request.app.state.lapor
    p = request.query_params
    agency, start, end = p.get("instansi", ""), p.get("dari", ""), p.get("sampai", "")
    try:
        rows, templates, n = await run_in_threadpool(
            _monev_rows, state, session.principal, agency, start, end
        )
    except DataError as exc:
        return render(request, "monev.html", session, 503, title="Monev", error=str(exc))
    if p.get("format") == "csv":
        import csv

        from lapor_triage.monev_table import COLUMNS

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="monev.csv"'},
        )
    bars = _chart(rows)
    return render(
        request,
        "monev.html",
        session,
        title="Monev",
        rows=rows,
        templates_by_agency=templates,
        n=n,
        bars=bars,
        chart_height=16 + 26 * len(bars),
        agency=agency,
        start=start,
        end=end,
        own_agency=session.principal.role is Role.admin_instansi,
        query=request.url.query,
    )
