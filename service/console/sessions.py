"""Console sessions: the API key a user signed in with is exchanged for a random session id in
an HttpOnly, SameSite=Strict cookie; the key stays on the server, in this worker's memory.

Hand-written rather than Starlette's ``SessionMiddleware``: that one keeps the session in a signed
cookie on the client (the key would travel in every request and a signed-out cookie would stay
valid), while sign-out here must end the session on the server. Sessions are per worker process:
with ``--workers N`` a load balancer must keep a user on one worker (the API is unaffected).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lapor_triage.service.auth import Principal

COOKIE = "lapor_console"
LOGIN_CSRF_COOKIE = "lapor_console_login"
IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 10_000


@dataclass
class Session:
    sid: str
    key: str  # re-checked against the key store on every request: a revoked key ends it
    principal: Principal
    csrf: str
    last_seen: float
    data: dict[str, Any] = field(default_factory=dict)  # queue, last check


class SessionStore:
    def __init__(self, idle_seconds: float = IDLE_SECONDS):
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.idle_seconds = idle_seconds

    def create(self, key: str, principal: Principal) -> Session:
        session = Session(
            sid=secrets.token_urlsafe(32),
            key=key,
            principal=principal,
            csrf=secrets.token_urlsafe(32),
            last_seen=time.monotonic(),
        )
        with self._lock:
            self._expire()
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: s.last_seen)
                self._sessions.pop(oldest.sid, None)
            self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds:
                self._sessions.pop(sid, None)
                return None
            session.last_seen = now
            return session

    def end(self, sid: str | None) -> bool:
        with self._lock:
            return self._sessions.pop(sid or "", None) is not None

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [
            s.sid for s in self._sessions.values() if now - s.last_seen > self.idle_seconds
        ]:
            self._sessions.pop(sid, None)


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a submitted CSRF token with the expected one."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))
