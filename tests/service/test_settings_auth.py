"""Settings refuse default secrets in production; keys are stored hashed; the keys CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lapor_triage.cli import main as cli_main
from lapor_triage.service.auth import KeyStore, Role, hash_key
from lapor_triage.service.db import Database
from lapor_triage.service.main import create_app
from lapor_triage.service.settings import InsecureSettingsError, Settings
from lapor_triage.service.tables import ApiKey


def test_production_refuses_the_default_pepper(tmp_path):
    settings = Settings(env="production", database_url=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(InsecureSettingsError, match="LAPOR_PEPPER"):
        create_app(settings, load_models=False)


def test_production_refuses_a_bootstrap_key(tmp_path):
    settings = Settings(
        env="production",
        pepper="a-real-secret-pepper-of-enough-length",
        bootstrap_admin_key="lt_dev_key",
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
    )
    with pytest.raises(InsecureSettingsError, match="BOOTSTRAP"):
        settings.check_secrets()
    Settings(env="production", pepper="a-real-secret-pepper-of-enough-length").check_secrets()


def test_production_refuses_via_env(monkeypatch):
    monkeypatch.setenv("LAPOR_ENV", "production")
    monkeypatch.delenv("LAPOR_PEPPER", raising=False)
    with pytest.raises(InsecureSettingsError):
        Settings().check_secrets()


def test_keys_are_stored_hashed_with_the_pepper(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'k.db'}")
    db.create_all()
    store = KeyStore(db, "pepper-one-0123456789")
    created = store.create(Role.admin_instansi, agency="Dinas Perhubungan", name="x")
    with db.session() as s:
        row = s.scalar(select(ApiKey))
    assert created.key not in (row.key_hash, row.key_id, row.name)
    assert row.key_hash == hash_key(created.key, "pepper-one-0123456789")
    principal = store.verify(created.key)
    assert principal.role is Role.admin_instansi and principal.agency == "Dinas Perhubungan"
    # another pepper does not accept the key; a tampered key is refused
    assert KeyStore(db, "pepper-two-0123456789").verify(created.key) is None
    assert store.verify(created.key[:-1] + ("A" if created.key[-1] != "A" else "B")) is None
    assert store.verify("") is None and store.verify("x" * 1000) is None


def test_bootstrap_key_in_development(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    db.create_all()
    store = KeyStore(db, "pepper", bootstrap_key="lt_bootstrap_0123456789abcdef")
    principal = store.verify("lt_bootstrap_0123456789abcdef")
    assert principal.role is Role.admin and principal.key_id == "bootstrap"
    assert store.verify("lt_bootstrap_0123456789abcdeX") is None


def test_keys_cli_create_list_revoke(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LAPOR_DATABASE_URL", url)
    monkeypatch.setenv("LAPOR_PEPPER", "cli-pepper-0123456789")
    monkeypatch.delenv("LAPOR_ENV", raising=False)
    assert cli_main(["keys", "create", "--role", "admin_instansi", "--agency", "Dinas Sosial",
                     "--name", "operator"]) == 0  # fmt: skip
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("lt_") and "shown only this once" in out.err
    store = KeyStore(Database(url), "cli-pepper-0123456789")
    assert store.verify(key).agency == "Dinas Sosial"

    assert cli_main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    key_id = key.split("_")[1]
    assert key_id in listing and "Dinas Sosial" in listing and key not in listing

    assert cli_main(["keys", "revoke", key_id]) == 0
    capsys.readouterr()
    assert KeyStore(Database(url), "cli-pepper-0123456789").verify(key) is None
    assert cli_main(["keys", "revoke", "nosuchkey"]) == 2
    assert "no API key" in capsys.readouterr().err
    assert cli_main(["keys", "create", "--role", "admin_instansi"]) == 2
    assert "--agency" in capsys.readouterr().err
    monkeypatch.setenv("LAPOR_ENV", "production")
    monkeypatch.delenv("LAPOR_PEPPER")
    assert cli_main(["keys", "list"]) == 2
    assert "LAPOR_PEPPER" in capsys.readouterr().err


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'var' / 'w.db'}", busy_timeout_ms=7000)
    db.create_all()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_concurrent_writers_on_one_sqlite_file(tmp_path):
    """Two Database objects (as two processes would have) writing at once: nothing is lost."""
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path / 'c.db'}"
    first, second = Database(url), Database(url)
    first.create_all()

    def write(i: int) -> None:
        db = first if i % 2 else second
        db.add_feedback(kind="triage", report_id=f"r{i}", text="teks", actor_key_id="k",
                        actor_role="admin")  # fmt: skip

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(write, range(200)))
    assert len(list(first.iter_feedback(chunk=37))) == 200


def test_key_ids_never_read_as_phone_numbers(monkeypatch):
    """A key id of "k" and ten decimal digits was masked as [TELEPON] in logs (about 1 in 100)."""
    import secrets

    from lapor_triage.service.auth import generate_key
    from lapor_triage.text import mask_pii

    draws = iter(["0222809845", "0812345678", "0a22809845"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(draws))
    key_id, key = generate_key()
    assert key_id == "k0a22809845"
    assert mask_pii(f"DELETE /v1/admin/keys/{key_id}") == f"DELETE /v1/admin/keys/{key_id}"
