"""API keys and roles.

A key looks like ``lt_<key_id>_<secret>``. Only ``key_id`` (public, for listing and revoking) and
an HMAC-SHA256 of the whole key under a server-side pepper are stored; the key itself is shown once.

Roles:

- ``admin_pusat``: triage reports, give feedback;
- ``admin_instansi``: assess replies and give feedback, for its own agency only;
- ``data_scientist``: list models, export feedback;
- ``admin``: manage keys, reload models — and everything the other roles may do.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import delete, select

from lapor_triage.labels import agency_key
from lapor_triage.service.db import Database
from lapor_triage.service.tables import ApiKey, ConsoleSession, utcnow
from lapor_triage.text import mask_pii

KEY_PREFIX = "lt"
_KEY_RE = re.compile(r"^lt_([A-Za-z0-9]{8,32})_([A-Za-z0-9_-]{16,128})$")


class Role(str, Enum):
    admin_pusat = "admin_pusat"
    admin_instansi = "admin_instansi"
    data_scientist = "data_scientist"
    admin = "admin"


class Permission(str, Enum):
    triage = "triage"
    assess = "assess"
    feedback = "feedback"
    models = "models"
    export = "export"
    replies = "replies"
    keys = "keys"
    reload = "reload"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin_pusat: frozenset({Permission.triage, Permission.feedback}),
    Role.admin_instansi: frozenset({Permission.assess, Permission.feedback, Permission.replies}),
    Role.data_scientist: frozenset({Permission.models, Permission.export}),
    Role.admin: frozenset(Permission),
}


class KeyError_(ValueError):
    """A key request that cannot be honoured (bad role/agency combination, unknown key)."""


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    agency: str | None = None
    name: str = ""

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def may_act_for(self, agency: str | None) -> bool:
        """Agency-scoped roles act only for their own agency; other roles for any."""
        if self.role is not Role.admin_instansi:
            return True
        return agency is not None and same_agency(agency, self.agency)


def normalise_agency(name: str | None) -> str:
    """The comparison key of an agency name (case, spacing, "Kab."/"Kabupaten" spellings)."""
    return agency_key(name or "")


def same_agency(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and normalise_agency(a) == normalise_agency(b)


def hash_key(key: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def generate_key() -> tuple[str, str]:
    """A new ``(key_id, key)``."""
    # Starts with a letter and holds another one among its hex digits: "k" + ten decimal digits
    # ("k0222809845", about 1 id in 100) reads as a phone number glued to a word and got masked.
    key_id = "k" + secrets.token_hex(5)
    while key_id[1:].isdigit():
        key_id = "k" + secrets.token_hex(5)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


@dataclass
class CreatedKey:
    key: str
    key_id: str
    role: Role
    agency: str | None
    name: str
    created_at: datetime


class KeyStore:
    """Creates, lists, revokes and verifies keys; verified keys are cached for a few seconds."""

    def __init__(
        self,
        db: Database,
        pepper: str,
        *,
        cache_seconds: float = 5.0,
        bootstrap_key: str | None = None,
    ):
        self.db = db
        self._pepper = pepper
        self._cache_seconds = cache_seconds
        self._bootstrap_hash = hash_key(bootstrap_key, pepper) if bootstrap_key else None
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def create(self, role: Role | str, agency: str | None = None, name: str = "") -> CreatedKey:
        role = Role(role)
        agency = mask_pii(" ".join(agency.split())) if agency else None
        name = mask_pii(name)
        if role is Role.admin_instansi and not agency:
            raise KeyError_("role admin_instansi needs --agency (the agency the key acts for)")
        if role is not Role.admin_instansi and agency:
            raise KeyError_(f"role {role.value} is not agency-scoped; leave out --agency")
        key_id, key = generate_key()
        row = ApiKey(
            key_id=key_id,
            key_hash=hash_key(key, self._pepper),
            name=name,
            role=role.value,
            agency=agency,
        )
        self.db.write(lambda s: s.add(row))
        return CreatedKey(key, key_id, role, agency, name, row.created_at)

    def list(self, include_revoked: bool = True) -> list[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.id)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_(None))
        with self.db.session() as session:
            return list(session.scalars(query))

    def revoke(self, key_id: str) -> ApiKey:
        def _revoke(session) -> ApiKey:
            row = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
            if row is None:
                raise KeyError_(f"no API key with id {key_id!r}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            return row

        row = self.db.write(_revoke)
        # the key's console sessions end now (every worker re-checks the key anyway)
        self.db.write(
            lambda session: session.execute(
                delete(ConsoleSession).where(ConsoleSession.key_id == key_id)
            )
        )
        with self._lock:
            self._cache = {h: v for h, v in self._cache.items() if v[1].key_id != key_id}
        return row

    def has_admin(self) -> bool:
        query = select(ApiKey.id).where(
            ApiKey.role == Role.admin.value, ApiKey.revoked_at.is_(None)
        )
        with self.db.session() as session:
            return session.scalar(query.limit(1)) is not None

    def verify_cached(self, key: str | None) -> Principal | None | bool:
        """The principal from the cache (or the bootstrap key) without touching the database;
        ``False`` for a clearly invalid key; ``True`` when the database must be asked."""
        if not key or len(key) > 200:
            return False
        key = key.strip()
        digest = hash_key(key, self._pepper)
        if self._bootstrap_hash and hmac.compare_digest(digest, self._bootstrap_hash):
            return Principal(key_id="bootstrap", role=Role.admin, name="bootstrap admin")
        if not _KEY_RE.match(key):
            return False
        with self._lock:
            hit = self._cache.get(digest)
        if hit and time.monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        return True

    def digest(self, key: str) -> str:
        """The stored hash of ``key`` (what :meth:`verify_digest` takes)."""
        return hash_key(key.strip(), self._pepper)

    def verify_digest(self, digest: str) -> Principal | None:
        """The principal of the valid, unrevoked key whose hash is ``digest`` (the console keeps
        only the hash of the key a session signed in with); ``None`` otherwise."""
        if self._bootstrap_hash and hmac.compare_digest(digest, self._bootstrap_hash):
            return Principal(key_id="bootstrap", role=Role.admin, name="bootstrap admin")
        with self._lock:
            hit = self._cache.get(digest)
        if hit and time.monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        return self._look_up(digest)

    def _look_up(self, digest: str, key_id: str | None = None) -> Principal | None:
        """The database's answer for a key hash (and, when given, the key id the key names),
        cached as valid or dropped from the cache as invalid."""
        with self.db.session() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        if row is None or row.revoked_at is not None or key_id not in (None, row.key_id):
            with self._lock:
                self._cache.pop(digest, None)
            return None
        principal = Principal(row.key_id, Role(row.role), row.agency, row.name)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (time.monotonic(), principal)
        return principal

    def verify(self, key: str | None) -> Principal | None:
        """The principal of a valid, unrevoked key; ``None`` otherwise."""
        fast = self.verify_cached(key)
        if fast is False:
            return None
        if isinstance(fast, Principal):
            return fast
        key = key.strip()
        digest = hash_key(key, self._pepper)
        match = _KEY_RE.match(key)
        return self._look_up(digest, match.group(1))
