"""Console sessions, in the service's database so that every worker process serves them.

Signing in exchanges the API key for a random session id in an HttpOnly, SameSite=Strict cookie.
The ``console_sessions`` table (migration 0004) holds, per session: the SHA-256 of the id (never
the id itself), the key's id and stored hash (never the key: the hash is re-checked on every
request, so a revoked key ends the session), the role, the CSRF token, created / last seen /
expiry, the page state (the last reply check, the queue's decisions; masked JSON) and the uploaded
queue (masked, compressed JSON: :mod:`lapor_triage.service.console.queue_store`).

Hand-written rather than Starlette's ``SessionMiddleware``: that one keeps the session in a signed
cookie on the client (a signed-out cookie would stay valid), while sign-out here must end the
session on the server.

Idle expiry: ``expires_at`` is ``last_seen`` + 8 h; ``last_seen`` is written at most once a
minute per session (:data:`TOUCH_SECONDS`), so a session may end up to a minute before 8 h of
real idleness. Expired rows are deleted at every sign-in and, per worker, at most every
:data:`CLEANUP_SECONDS` while serving.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, select

from lapor_triage.service.auth import Principal
from lapor_triage.service.db import Database, masked
from lapor_triage.service.tables import ConsoleSession

COOKIE = "lapor_console"
LOGIN_CSRF_COOKIE = "lapor_console_login"
IDLE_SECONDS = 8 * 3600
TOUCH_SECONDS = 60.0
CLEANUP_SECONDS = 600.0
MAX_SESSIONS_PER_KEY = 50  # the oldest ends when a key signs in once more


def id_hash(sid: str) -> str:
    """What the table stores of a session id: its SHA-256 (the id is 256 random bits, so an
    unsalted hash cannot be reversed by guessing)."""
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass
class Session:
    """One signed-in session, as read for one request."""

    sid: str
    id_hash: str
    key_hash: str  # the key's stored hash: re-checked on every request
    principal: Principal
    csrf: str
    last_seen: datetime
    queue_rev: int = 0
    data: dict[str, Any] = field(default_factory=dict)  # page state (masked when stored)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite: naive UTC


class SessionStore:
    """The console's sessions in ``db`` (shared by every worker on that database)."""

    def __init__(self, db: Database, idle_seconds: float = IDLE_SECONDS):
        self.db = db
        self.idle_seconds = idle_seconds
        self._last_cleanup = 0.0
        self._lock = threading.Lock()

    # --- life cycle -------------------------------------------------------------------------
    def create(self, key_hash: str, principal: Principal) -> Session:
        """A new session for ``principal`` (signed in with the key whose hash is ``key_hash``);
        expired sessions are deleted first."""
        sid = secrets.token_urlsafe(32)
        now = _now()
        row = ConsoleSession(
            id_hash=id_hash(sid),
            key_id=principal.key_id,
            key_hash=key_hash,
            role=principal.role.value,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen=now,
            expires_at=now + timedelta(seconds=self.idle_seconds),
            state={},
            queue_rev=0,
        )

        def _create(session) -> None:
            self._delete_expired(session, now)
            count = select(func.count()).where(ConsoleSession.key_id == principal.key_id)
            if session.scalar(count) >= MAX_SESSIONS_PER_KEY:
                oldest = (
                    select(ConsoleSession.id_hash)
                    .where(ConsoleSession.key_id == principal.key_id)
                    .order_by(ConsoleSession.last_seen)
                    .limit(1)
                )
                session.execute(
                    delete(ConsoleSession).where(ConsoleSession.id_hash == session.scalar(oldest))
                )
            session.add(row)

        self.db.write(_create)
        return Session(sid, row.id_hash, key_hash, principal, row.csrf, now, 0, {})

    def get(
        self, sid: str | None, principal_of: Callable[[str], Principal | None]
    ) -> Session | None:
        """The live session of the cookie value ``sid``, its key checked by ``principal_of``
        (key hash -> principal or ``None``: revoked). An expired session or one whose key was
        revoked is deleted and ``None`` returned. Touches ``last_seen`` (at most once a minute)."""
        if not sid or len(sid) > 200:
            return None
        digest = id_hash(sid)
        now = _now()
        self._maybe_cleanup(now)
        with self.db.session() as session:
            row = session.get(ConsoleSession, digest)
        if row is None:
            return None
        if _aware(row.expires_at) <= now:
            self.end(sid)
            return None
        principal = principal_of(row.key_hash)
        if principal is None:
            self.end(sid)
            return None
        last_seen = _aware(row.last_seen)
        if (now - last_seen).total_seconds() >= TOUCH_SECONDS:
            self._touch(digest, now)
            last_seen = now
        return Session(
            sid, digest, row.key_hash, principal, row.csrf, last_seen, row.queue_rev,
            dict(row.state or {}),
        )  # fmt: skip

    def end(self, sid: str | None) -> bool:
        """Delete the session (sign-out); whether there was one."""
        if not sid:
            return False
        digest = id_hash(sid)

        def _end(session) -> int:
            return session.execute(
                delete(ConsoleSession).where(ConsoleSession.id_hash == digest)
            ).rowcount

        return bool(self.db.write(_end))

    def cleanup(self) -> int:
        """Delete every expired session; how many."""
        return self.db.write(lambda session: self._delete_expired(session, _now()))

    # --- page state ---------------------------------------------------------------------------
    def save_state(self, session: Session, **values: Any) -> None:
        """Store ``values`` in the session's page state (masked), merged with what is stored
        (read and written in one transaction, so two workers do not drop each other's keys)."""
        clean = masked(values)

        def _save(db_session) -> None:
            row = db_session.get(ConsoleSession, session.id_hash, with_for_update=True)
            if row is None:
                return
            row.state = {**(row.state or {}), **clean}

        self.db.write(_save)
        session.data.update(clean)

    def update_state(self, session: Session, key: str, fn: Callable[[Any], Any]) -> Any:
        """Replace the state value ``key`` by ``fn(stored value)`` (masked) in one transaction;
        returns the new value."""

        def _update(db_session) -> Any:
            row = db_session.get(ConsoleSession, session.id_hash, with_for_update=True)
            if row is None:
                return None
            value = masked(fn((row.state or {}).get(key)))
            row.state = {**(row.state or {}), key: value}
            return value

        value = self.db.write(_update)
        session.data[key] = value
        return value

    # --- the queue blob (see queue_store) -----------------------------------------------------
    def save_queue(self, session: Session, blob: bytes, **state: Any) -> int:
        """Store the queue ``blob`` and reset the state keys ``state`` with it; the new revision."""
        clean = masked(state)

        def _save(db_session) -> int:
            row = db_session.get(ConsoleSession, session.id_hash, with_for_update=True)
            if row is None:
                return 0
            row.queue = blob
            row.queue_rev = (row.queue_rev or 0) + 1
            row.state = {**(row.state or {}), **clean}
            return row.queue_rev

        rev = self.db.write(_save)
        session.queue_rev = rev
        session.data.update(clean)
        return rev

    def load_queue(self, session: Session) -> tuple[int, bytes | None]:
        """(revision, blob) of the session's stored queue."""
        query = select(ConsoleSession.queue_rev, ConsoleSession.queue).where(
            ConsoleSession.id_hash == session.id_hash
        )
        with self.db.session() as db_session:
            found = db_session.execute(query).first()
        return (found[0], found[1]) if found else (0, None)

    # --- internals ----------------------------------------------------------------------------
    def _touch(self, digest: str, now: datetime) -> None:
        expires = now + timedelta(seconds=self.idle_seconds)

        def _update(session) -> None:
            row = session.get(ConsoleSession, digest)
            if row is not None:
                row.last_seen, row.expires_at = now, expires

        self.db.write(_update)

    def _delete_expired(self, session, now: datetime) -> int:
        when = now if not self.db.is_sqlite else now.replace(tzinfo=None)
        return session.execute(
            delete(ConsoleSession).where(ConsoleSession.expires_at <= when)
        ).rowcount

    def _maybe_cleanup(self, now: datetime) -> None:
        with self._lock:
            if time.monotonic() - self._last_cleanup < CLEANUP_SECONDS:
                return
            self._last_cleanup = time.monotonic()
        self.cleanup()


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a submitted CSRF token with the expected one."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))
