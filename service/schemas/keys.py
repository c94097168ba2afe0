"""``/v1/admin/keys``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lapor_triage.service.schemas.common import RequestModel, ResponseModel

RoleName = Literal["admin_pusat", "admin_instansi", "data_scientist", "admin"]


class KeyCreate(RequestModel):
    role: RoleName
    agency: str | None = Field(None, max_length=300, description="required for admin_instansi")
    name: str = Field("", max_length=200, description="who or what uses the key")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"role": "admin_instansi", "agency": "Dinas Perhubungan", "name": "operator dishub"}
            ]
        }
    }


class KeyInfo(ResponseModel):
    key_id: str
    role: str
    agency: str | None
    name: str
    created_at: str
    revoked_at: str | None


class KeyCreated(KeyInfo):
    key: str = Field(description="the API key: shown only now, store it safely")
