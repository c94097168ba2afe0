"""Error responses: every bad input becomes a 4xx naming the field and the reason.

Validation errors are answered as ``{"detail": [{"field": "reports[0].isi", "message": ...}]}``;
other errors as ``{"detail": "message"}``. Unexpected exceptions are logged (masked) and answered
with a plain 500 that reveals nothing of the input.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class InputError(Exception):
    """Input that passed the schema but breaks a limit or rule (batch size, text length, ...)."""

    def __init__(self, field: str, message: str, status_code: int = 422):
        super().__init__(f"{field}: {message}")
        self.errors = [{"field": field, "message": message}]
        self.status_code = status_code


def field_path(loc: Sequence[Any]) -> str:
    """``("body", "reports", 0, "isi")`` -> ``"reports[0].isi"``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        where = parts.pop(0)
        if not parts:
            return "body" if where == "body" else where
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("triage", "reply") and not out:
            continue  # the tag of the discriminated feedback union, not a field
        elif isinstance(part, str) and part.startswith(("function-after[", "function-")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    msg = str(error.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "json_invalid":
        ctx = error.get("ctx") or {}
        return f"invalid JSON: {ctx.get('error', msg)}"
    if kind == "extra_forbidden":
        return "unknown field (not allowed)"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx") or {}
        return f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "field 'kind' is missing (expected 'triage' or 'reply')"
    return msg


def validation_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for error in errors:
        loc = list(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            loc = ["body"]
        out.append({"field": field_path(loc), "message": _message(error)})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": validation_errors(exc.errors())})

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            message = "could not read the body: it is not valid UTF-8 JSON"
            return JSONResponse(
                status_code=400, content={"detail": [{"field": "body", "message": message}]}
            )
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": exc.detail},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(json.JSONDecodeError)
    async def _json(request: Request, exc: json.JSONDecodeError) -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content={"detail": [{"field": "body", "message": f"invalid JSON: {exc}"}]},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unexpected error on %s %s: %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            exc,
        )
        return JSONResponse(status_code=500, content={"detail": "internal error (logged)"})
