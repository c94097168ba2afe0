"""``lapor-triage keys``: create, list and revoke the service's API keys."""

from __future__ import annotations

import argparse
import sys

from lapor_triage.cli.common import add_actions, add_command, fail

ROLES = ("admin_pusat", "admin_instansi", "data_scientist", "admin")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "keys",
        help="manage API keys of the HTTP service",
        description="Create, list and revoke API keys. Keys are stored hashed (HMAC-SHA256 with "
        "LAPOR_PEPPER) in the service database (LAPOR_DATABASE_URL); a new key is printed once.",
    )
    sub = add_actions(parser, "keys_command")
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--agency", help="the agency an admin_instansi key acts for")
    create.add_argument("--name", default="", help="who or what uses the key")
    create.set_defaults(func=_guarded(_create))
    lst = sub.add_parser("list", help="list keys (never the keys themselves)")
    lst.add_argument("--active", action="store_true", help="leave out revoked keys")
    lst.set_defaults(func=_guarded(_list))
    revoke = sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", help="the id shown by `keys list` (the part after lt_)")
    revoke.set_defaults(func=_guarded(_revoke))


def _guarded(fn):
    def handler(args: argparse.Namespace) -> int:
        from lapor_triage.service.auth import KeyError_
        from lapor_triage.service.db import SchemaVersionError
        from lapor_triage.service.settings import InsecureSettingsError

        try:
            return fn(args)
        except (KeyError_, InsecureSettingsError, SchemaVersionError) as exc:
            return fail("keys", exc)

    return handler


def _store():
    from lapor_triage.service.auth import KeyStore
    from lapor_triage.service.db import Database
    from lapor_triage.service.settings import Settings

    settings = Settings()
    settings.check_secrets()
    db = Database.from_settings(settings)
    db.prepare(upgrade=settings.env != "production")
    return KeyStore(db, settings.pepper.get_secret_value()), settings


def _create(args: argparse.Namespace) -> int:
    store, _ = _store()
    created = store.create(args.role, agency=args.agency, name=args.name)
    scope = f" for {created.agency}" if created.agency else ""
    print(f"created key {created.key_id} (role {created.role.value}{scope})", file=sys.stderr)
    print("store it now: it is shown only this once", file=sys.stderr)
    print(created.key)
    return 0


def _list(args: argparse.Namespace) -> int:
    store, _ = _store()
    rows = store.list(include_revoked=not args.active)
    if not rows:
        print("no API keys yet: lapor-triage keys create --role admin")
        return 0
    print(f"{'key_id':<14} {'role':<15} {'agency':<32} {'created':<20} {'revoked':<20} name")
    for row in rows:
        created = row.created_at.strftime("%Y-%m-%d %H:%M:%S")
        revoked = row.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if row.revoked_at else "-"
        print(
            f"{row.key_id:<14} {row.role:<15} {(row.agency or '-'):<32} {created:<20} "
            f"{revoked:<20} {row.name}"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    store, _ = _store()
    row = store.revoke(args.key_id)
    print(f"revoked key {row.key_id} (role {row.role})")
    return 0
