"""What every console page shares: the templates, the pages and who may open them, sessions, and
the dependencies that guard a page (signed in, allowed) and a form post (the same, plus the
session's CSRF token).

A guard that fails ends the request with a page rather than JSON: the sign-in page (redirect) or
the "access denied" page (403), raised as :class:`ConsoleStop` and answered by the handler that
:func:`install_handlers` adds to the app. A wrong CSRF token is a plain 403.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from lapor_triage.service.auth import Permission, Principal, Role
from lapor_triage.service.console.sessions import COOKIE, Session, SessionStore, same_token
from lapor_triage.service.deps import AppState
from lapor_triage.service.errors import InputError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    permission: Permission

    def allowed(self, principal: Principal) -> bool:
        return principal.can(self.permission)


# Monev is read by the agencies' admins (their own agency), the data scientists and admins: the
# roles holding either of these permissions.
MONEV_PERMISSIONS = (Permission.assess, Permission.models)


@dataclass(frozen=True)
class MonevPage(Page):
    def allowed(self, principal: Principal) -> bool:
        return any(principal.can(p) for p in MONEV_PERMISSIONS)


PAGES = (
    Page("/console/antrean", "Antrean disposisi", Permission.triage),
    Page("/console/cek", "Cek tindak lanjut", Permission.assess),
    MonevPage("/console/monev", "Monev", Permission.assess),
    Page("/console/model", "Model", Permission.models),
)
ROLE_TEXT = {
    Role.admin_pusat: "Admin Pusat",
    Role.admin_instansi: "Admin Instansi",
    Role.data_scientist: "Data Scientist",
    Role.admin: "Administrator",
}

_STORE_LOCK = threading.Lock()


def sessions_of(request: Request) -> SessionStore:
    """The console sessions of this app: in its database, so every worker process on that
    database serves them (one store object per app, made on first use)."""
    state: AppState = request.app.state.lapor
    store = getattr(state, "console_sessions", None)
    if store is None:
        with _STORE_LOCK:
            store = getattr(state, "console_sessions", None)
            if store is None:
                store = SessionStore(state.db)
                state.console_sessions = store  # type: ignore[attr-defined]
    return store


async def session_of_cookie(request: Request) -> Session | None:
    """The live session of the request's cookie, its key checked again by the key store (a
    revoked key, or an expired session, ends it: ``None``)."""
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    state: AppState = request.app.state.lapor
    session = await run_in_threadpool(sessions_of(request).get, sid, state.keys.verify_digest)
    if session is not None:
        request.state.key_id = session.principal.key_id  # for the access log
    return session


class NotSignedIn(Exception):
    pass


class ConsoleStop(Exception):
    """Ends a console request with ``response`` (a redirect to sign-in, the 403 page)."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def install_handlers(app: FastAPI) -> None:
    """Answer :class:`ConsoleStop` with its page (called by ``service.main``)."""

    @app.exception_handler(ConsoleStop)
    async def _stop(request: Request, exc: ConsoleStop) -> Response:
        return exc.response


async def current(request: Request) -> Session:
    """The signed-in session (see :func:`session_of_cookie`); else :class:`NotSignedIn`."""
    session = await session_of_cookie(request)
    if session is None:
        raise NotSignedIn
    return session


def to_login() -> RedirectResponse:
    response = RedirectResponse("/console/masuk", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def render(
    request: Request,
    name: str,
    session: Session | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    nav = []
    if session is not None:
        nav = [p for p in PAGES if p.allowed(session.principal)]
    response = templates.TemplateResponse(
        request,
        name,
        {
            "session": session,
            "principal": session.principal if session else None,
            "role_text": ROLE_TEXT.get(session.principal.role) if session else None,
            "nav": nav,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response


def forbidden(request: Request, session: Session) -> Response:
    return render(request, "forbidden.html", session, status_code=403, title="Akses ditolak")


async def _allowed(request: Request, permissions: tuple[Permission, ...]) -> Session:
    try:
        session = await current(request)
    except NotSignedIn:
        raise ConsoleStop(to_login()) from None
    if permissions and not any(session.principal.can(p) for p in permissions):
        raise ConsoleStop(forbidden(request, session))
    return session


def page(*permissions: Permission) -> Callable[[Request], Awaitable[Session]]:
    """A dependency for a page (GET): the session, signed in and holding any of
    ``permissions``; else the sign-in redirect or the 403 page."""

    async def _page(request: Request) -> Session:
        return await _allowed(request, permissions)

    _page.__name__ = f"console_page_{'_'.join(p.value for p in permissions)}"
    return _page


def form(*permissions: Permission) -> Callable[..., Awaitable[Session]]:
    """A dependency for a form post: as :func:`page`, and the form's ``csrf`` field must be the
    session's token (403 otherwise)."""

    async def _form(request: Request, csrf: Annotated[str, Form()] = "") -> Session:
        session = await _allowed(request, permissions)
        check_csrf(session, csrf)
        return session

    _form.__name__ = f"console_form_{'_'.join(p.value for p in permissions)}"
    return _form


def check_csrf(session: Session, token: str | None) -> None:
    if not same_token(token, session.csrf):
        raise HTTPException(403, "CSRF token missing or wrong")


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
    )


def why(exc: Exception) -> str:
    """An error of the shared API functions as one line for a page."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, InputError):
        return "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    return str(exc)


# The guards of the pages, by what they serve.
QueuePage = Annotated[Session, Depends(page(Permission.triage))]
QueueForm = Annotated[Session, Depends(form(Permission.triage))]
DecisionForm = Annotated[Session, Depends(form(Permission.feedback))]
CheckPage = Annotated[Session, Depends(page(Permission.assess))]
CheckForm = Annotated[Session, Depends(form(Permission.assess))]
MonevView = Annotated[Session, Depends(page(*MONEV_PERMISSIONS))]
ModelPage = Annotated[Session, Depends(page(Permission.models))]
ExportPage = Annotated[Session, Depends(page(Permission.export))]
