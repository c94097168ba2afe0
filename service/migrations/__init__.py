"""Alembic migrations of the service database, shipped inside the package.

``Database.upgrade`` (``lapor-triage db upgrade``, and the start-up of a non-production service)
runs them on its own connection; there is no ``alembic.ini``. ``versions/`` holds one revision per
schema change: write a new one for every change to ``service/tables.py`` (the test
``tests/service/test_db_upgrade.py`` fails while the migrated schema and the tables differ).
"""

from __future__ import annotations

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent
