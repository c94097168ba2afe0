"""``lapor-triage db``: the service database's schema (Alembic migrations shipped in the package).

``db upgrade`` brings the database named by ``LAPOR_DATABASE_URL`` (and ``LAPOR_DATABASE_SCHEMA``)
to this release's schema; running it again changes nothing. ``db current`` shows where it is. A
service with ``LAPOR_ENV=production`` never migrates by itself: it refuses a database that is
behind and says to run ``db upgrade``.
"""

from __future__ import annotations

import argparse

from lapor_triage.cli.common import add_actions, add_command, fail


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "db",
        help="database schema: upgrade, current revision",
        description="Manage the service database schema (LAPOR_DATABASE_URL, "
        "LAPOR_DATABASE_SCHEMA) with the migrations shipped in the package.",
    )
    sub = add_actions(parser, "db_command")
    upgrade = sub.add_parser(
        "upgrade",
        help="upgrade the database to this release's schema (safe to repeat)",
        description="Run the missing migrations. A database made before migrations existed is "
        "adopted: its tables and rows are kept, what it lacks is added.",
    )
    upgrade.set_defaults(func=_upgrade)
    current = sub.add_parser("current", help="show the database's schema revision")
    current.set_defaults(func=_current)


def _database():
    from lapor_triage.service.db import Database
    from lapor_triage.service.settings import Settings

    return Database.from_settings(Settings())


def _upgrade(args: argparse.Namespace) -> int:
    from lapor_triage.service.db import SchemaVersionError

    db = _database()
    try:
        before, after = db.upgrade()
    except SchemaVersionError as exc:
        return fail("db upgrade", exc)
    finally:
        db.dispose()
    if before == after:
        print(f"database already at revision {after} (nothing to do)")
    else:
        print(f"database upgraded from revision {before or '(none)'} to {after}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from lapor_triage.service.db import head_revision

    db = _database()
    try:
        current = db.current_revision()
    finally:
        db.dispose()
    head = head_revision()
    state = "up to date" if current == head else "behind: run `lapor-triage db upgrade`"
    print(f"database revision {current or '(none)'}; this release needs {head} ({state})")
    return 0 if current == head else 1
