"""``lapor-triage serve``: run the HTTP service (uvicorn) on the embedded default.

With no configuration it uses SQLite under ``<home>/var``, the embedded MLflow store, and default
models trained from ``datasets/demo`` on first run. All settings: ``LAPOR_*`` environment
variables (see ``service/settings.py``).
"""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP service",
        description="Run the lapor-triage HTTP API (OpenAPI docs at /docs). Settings come from "
        "LAPOR_* environment variables or a .env file.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; models load in each)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from service.settings import InsecureSettingsError, Settings

    settings = Settings()
    try:
        settings.check_secrets()
    except InsecureSettingsError as exc:
        print(f"lapor-triage serve: error: {exc}", file=sys.stderr)
        return 2
    _development_admin_key(settings)
    common = dict(
        host=args.host,
        port=args.port,
        access_log=False,  # the service writes its own (masked) access log
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )
    print(f"lapor-triage: serving on http://{args.host}:{args.port} (docs: /docs)", file=sys.stderr)
    if args.workers > 1:
        # Load (and on first run, train) the models once before the workers start.
        from service.model_store import ModelStore

        ModelStore(settings).reload()
        uvicorn.run("service.main:create_app", factory=True, workers=args.workers, **common)
    else:
        from service.main import create_app

        uvicorn.run(create_app(settings), **common)
    return 0


def _development_admin_key(settings) -> None:
    """In development, print a fresh admin key when there is no way to log in yet."""
    if settings.env != "development" or settings.bootstrap_admin_key is not None:
        return
    from service.auth import KeyStore, Role
    from service.db import Database

    db = Database(settings.sqlalchemy_url, schema=settings.database_schema)
    db.create_all()
    keys = KeyStore(db, settings.pepper.get_secret_value())
    if keys.has_admin():
        return
    created = keys.create(Role.admin, name="first admin (created by serve)")
    print(
        "lapor-triage: no admin key existed; created one (shown only now):\n"
        f"  {created.key}\n"
        "  create more with: lapor-triage keys create --role ROLE [--agency A]",
        file=sys.stderr,
    )
    db.dispose()
