"""All service settings in one place: environment variables with the ``LAPOR_`` prefix (or a ``.env``).

Safe defaults for a laptop (SQLite under ``<home>/var``, default models trained on first run);
``LAPOR_ENV=production`` refuses to start with default secrets.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lapor_triage import paths
from lapor_triage.labels import agency_key
from lapor_triage.text import one_line

DEFAULT_PEPPER = "lapor-triage-development-pepper-not-secret"
TASKS = ("report-type", "agency", "reply-quality")
"""The tasks every deployment needs (``/readyz`` waits for them)."""
OPTIONAL_TASKS = ("disposition",)
"""Tasks loaded when configured (a folder or a registry alias), never required, never trained by
default: without a disposition model the triage answer simply has no ``disposition``."""
UNIT_REGISTRY_PREFIX = "models:/lapor-triage-agency@"


class InsecureSettingsError(RuntimeError):
    """The settings hold a default or development-only secret outside development."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LAPOR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "test", "production"] = Field(
        "development", description="`production` refuses default secrets and bootstrap keys"
    )

    # --- storage ---------------------------------------------------------------------------
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<home>/var/lapor.db"
    )
    database_schema: str | None = Field(
        None, description="PostgreSQL schema for the service tables (default: the search path)"
    )
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0)

    # --- access ------------------------------------------------------------------------------
    pepper: SecretStr = Field(
        SecretStr(DEFAULT_PEPPER), description="server-side secret mixed into API-key hashes"
    )
    bootstrap_admin_key: SecretStr | None = Field(
        None, description="development only: an admin key accepted without being stored"
    )
    key_cache_seconds: float = Field(
        5.0, ge=0, description="how long a verified key is trusted before the DB is asked again"
    )

    # --- models ------------------------------------------------------------------------------
    model_source: Literal["auto", "local", "mlflow"] = Field(
        "auto",
        description="auto: configured folders, else the MLflow alias, else default models",
    )
    report_type_model_dir: Path | None = None
    agency_model_dir: Path | None = None
    reply_quality_model_dir: Path | None = None
    disposition_model_dir: Path | None = Field(
        None,
        description="optional national disposition model (Admin Pusat); without it, and without "
        "a registry version of lapor-triage-disposition carrying the alias, triage answers "
        "without `disposition`",
    )
    unit_models: dict[str, str] = Field(
        default_factory=dict,
        description="unit-level agency models side by side, one per regional government, as JSON: "
        '{"<penerima>": "<model folder>" or "models:/lapor-triage-agency@<alias>"}; a report '
        "whose penerima is a key gets its agencies from that model, the others from the default "
        "agency model",
    )
    mlflow_alias: str = "champion"
    mlflow_poll_seconds: float = Field(
        0.0, ge=0, description="poll the MLflow alias every N seconds and reload on change (0: off)"
    )
    reload_poll_seconds: float = Field(
        1.0,
        ge=0,
        description="how often each worker process checks the database for a reload requested "
        "through another worker, and follows it (0: off; a reload then reaches one process only)",
    )
    train_default_models: bool = Field(
        True,
        description="`lapor-triage serve` trains default models from datasets/demo for the tasks "
        "with none configured, and the service may load them (never in production)",
    )

    penerima: str | None = Field(
        None,
        description="the instansi this deployment serves (e.g. 'Pemerintah Kota Surabaya'): the "
        "`penerima` of a triaged report or a triage feedback that does not carry its own",
    )

    # --- limits ------------------------------------------------------------------------------
    max_text_chars: int = Field(20_000, ge=1)
    max_batch: int = Field(256, ge=1)
    max_body_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="request body limit in bytes, enforced while the body streams (chunked too)",
    )
    console_queue_max_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        description="compressed size of a console queue (an uploaded export with its "
        "suggestions) stored with the session; a larger upload is refused with a message",
    )
    max_request_chars: int = Field(
        1_000_000,
        ge=1,
        description="characters of text per triage or assess request, all items together",
    )
    triage_slice_chars: int = Field(
        50_000,
        ge=1,
        description="the micro-batcher predicts a large request in slices of about this many "
        "characters, taking turns with the other queued requests",
    )
    max_json_depth: int = Field(32, ge=4, le=200, description="nesting levels of a JSON body")
    auth_failure_limit: str = Field(
        "20/minute",
        description="failed authentications per client address (a `limits` rate string) before "
        "429; counted per worker process unless LAPOR_AUTH_FAILURE_STORAGE is shared",
    )
    auth_failure_storage: str = Field(
        "memory://",
        description="`limits` storage URI for the failure counts (memory:// is per worker)",
    )
    agency_top_k: int = Field(5, ge=1, le=50)
    reply_bank_size: int = Field(200, ge=0, description="earlier replies per agency compared")
    feedback_weight_accepted: float = Field(1.0, ge=0)
    feedback_weight_overridden: float = Field(1.0, ge=0)

    log_level: str = "INFO"

    @field_validator("penerima")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        """Whitespace collapsed (as the training loader reads ``Nama Instansi``); blank is unset."""
        return one_line(value)

    @field_validator("unit_models")
    @classmethod
    def _unit_models(cls, value: dict[str, str]) -> dict[str, str]:
        """Keys are penerima names (whitespace collapsed, none blank, no two the same as agency
        names compare); values a folder or ``models:/lapor-triage-agency@<alias>``."""
        out: dict[str, str] = {}
        seen: dict[str, str] = {}
        for raw_key, raw_value in value.items():
            key = one_line(raw_key)
            target = (raw_value or "").strip()
            if not key:
                raise ValueError("LAPOR_UNIT_MODELS: a penerima (key) is blank")
            if not target:
                raise ValueError(f"LAPOR_UNIT_MODELS[{key!r}]: no model folder or registry alias")
            if target.startswith("models:/") and not (
                target.startswith(UNIT_REGISTRY_PREFIX) and len(target) > len(UNIT_REGISTRY_PREFIX)
            ):
                raise ValueError(
                    f"LAPOR_UNIT_MODELS[{key!r}]: {target!r} is not a folder or "
                    f"{UNIT_REGISTRY_PREFIX}<alias>"
                )
            norm = agency_key(key)
            if norm in seen:
                raise ValueError(
                    f"LAPOR_UNIT_MODELS: {seen[norm]!r} and {key!r} name the same penerima"
                )
            seen[norm] = key
            out[key] = target
        return out

    def tasks_dir(self, task: str) -> Path | None:
        return {
            "report-type": self.report_type_model_dir,
            "agency": self.agency_model_dir,
            "reply-quality": self.reply_quality_model_dir,
            "disposition": self.disposition_model_dir,
        }[task]

    @property
    def home(self) -> Path:
        """``$LAPOR_TRIAGE_HOME``, else the source checkout (see ``lapor_triage.paths``)."""
        return paths.home()

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'var' / 'lapor.db'}"

    def check_secrets(self) -> None:
        """Refuse default secrets outside development."""
        if self.env != "production":
            return
        problems = []
        pepper = self.pepper.get_secret_value()
        if pepper == DEFAULT_PEPPER:
            problems.append("LAPOR_PEPPER is the default development pepper")
        elif len(pepper) < 16:
            problems.append("LAPOR_PEPPER is shorter than 16 characters")
        if self.bootstrap_admin_key is not None:
            problems.append("LAPOR_BOOTSTRAP_ADMIN_KEY is for development only")
        if problems:
            raise InsecureSettingsError(
                "refusing to start with LAPOR_ENV=production: " + "; ".join(problems)
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
