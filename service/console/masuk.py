"""Sign-in, sign-out, the console's home and its static assets.

The API key is checked by the service's own key check (``deps._principal``), which counts each
failure in the service's failed-authentication limiter (``LAPOR_AUTH_FAILURE_LIMIT``, the
``limits`` package: :mod:`lapor_triage.service.ratelimit`). A client address over that limit gets
the sign-in page with 429 and ``Retry-After`` before its key is even looked at, so the form cannot
be used to try keys faster than the API can; failed sign-ins and failed API calls share one count
per address.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response

from lapor_triage.service.auth import Principal
from lapor_triage.service.console.sessions import COOKIE, LOGIN_CSRF_COOKIE, same_token
from lapor_triage.service.console.web import (
    HERE,
    PAGES,
    NotSignedIn,
    check_csrf,
    current,
    forbidden,
    render,
    session_of_cookie,
    sessions_of,
    set_cookie,
    to_login,
)
from lapor_triage.service.deps import AppState, _principal
from lapor_triage.service.ratelimit import client_address

log = logging.getLogger(__name__)
STATIC = {"console.css": "text/css", "console.js": "text/javascript"}

router = APIRouter(prefix="/console")


@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    try:
        session = await current(request)
    except NotSignedIn:
        return to_login()
    pages = [p for p in PAGES if p.allowed(session.principal)]
    if pages:
        return RedirectResponse(pages[0].path, status_code=303)
    return forbidden(request, session)


@router.get("/masuk")
async def login_page(request: Request) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, title="Masuk", csrf=token)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/masuk")
async def login(
    request: Request,
    api_key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not same_token(csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        error = "Formulir kedaluwarsa. Muat ulang halaman lalu coba lagi."
        return _login_error(request, error, 403)
    state: AppState = request.app.state.lapor
    wait = state.auth_limiter.retry_after(client_address(request.scope))
    if wait is not None:
        return _too_many(request, wait)
    key = api_key.strip()
    try:  # a failure is counted by the key check (deps.auth_failed)
        principal: Principal = await _principal(request, state, key)
    except HTTPException as exc:
        if exc.status_code == 429:  # this failure crossed the limit meanwhile
            return _too_many(request, int((exc.headers or {}).get("Retry-After", "60")))
        return _login_error(request, "Kunci API salah atau sudah dicabut.", 401)
    session = await run_in_threadpool(
        sessions_of(request).create, state.keys.digest(key), principal
    )
    log.info("console sign-in: key %s (%s)", principal.key_id, principal.role.value)
    response = RedirectResponse("/console", status_code=303)
    set_cookie(response, request, COOKIE, session.sid)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


def _too_many(request: Request, wait: int) -> Response:
    message = (
        f"Terlalu banyak percobaan masuk yang gagal dari alamat ini. Coba lagi dalam {wait} detik."
    )
    response = _login_error(request, message, 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _login_error(request: Request, message: str, status: int) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, status, title="Masuk", csrf=token, error=message)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/keluar")
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    session = await session_of_cookie(request)
    if session is not None:
        check_csrf(session, csrf)
        await run_in_threadpool(sessions_of(request).end, session.sid)
    return to_login()


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise HTTPException(404, "not found")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name])
