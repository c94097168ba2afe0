"""Pure ASGI middleware: a declared body over the size limit (413), control characters in the
path or query (400) and a body sent without a key (401) are refused before the body is read; a
body that streams (chunked, or longer than declared) is counted as it arrives and refused (413)
the moment it passes the limit; metrics and a (masked, escaped) access log.

The streaming count is written here rather than taken from Starlette's
``RequestBodyLimitMiddleware`` (FastAPI's ``max_body_size``) because that one replaces every
answer to an over-long body with a plain-text "Content Too Large", without the field and the
limit that the other errors of this API name."""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import unquote

from fastapi import HTTPException

from lapor_triage.service.deps import MISSING_KEY, auth_failed
from lapor_triage.service.logs import escape_controls
from lapor_triage.service.metrics import ServiceMetrics
from lapor_triage.text import mask_pii

log = logging.getLogger("service.access")

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class ObserveMiddleware:
    def __init__(self, app, metrics: ServiceMetrics, max_body_bytes: int):
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def send_wrapper(message):
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
            await send(message)

        limit = self.max_body_bytes
        received = 0

        async def receive_limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise body_too_large(f"request body is over the limit of {limit} bytes")
            return message

        try:
            length = _content_length(scope)
            if length is not None and length > self.max_body_bytes:
                await _reply(
                    send_wrapper,
                    413,
                    {
                        "detail": [
                            {
                                "field": "body",
                                "message": f"request body of {length} bytes is over the limit "
                                f"of {self.max_body_bytes} bytes",
                            }
                        ]
                    },
                )
                return
            refusal = _control_characters(scope) or _body_without_key(scope)
            if refusal is not None:
                code, body, headers = refusal
                await _reply(send_wrapper, code, body, headers)
                return
            await self.app(scope, receive_limited, send_wrapper)
        except HTTPException as exc:  # the body limit, raised outside a route (not handled yet)
            if started:
                raise
            await _reply(send_wrapper, exc.status_code, {"detail": exc.detail})
        except Exception:
            if not started:
                status = 500
                await _reply(send_wrapper, 500, {"detail": "internal error (logged)"})
            log.exception(
                "unhandled error on %s %s", scope.get("method"), escape_controls(scope["path"])
            )
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.inc(1, method, path, str(status))
            self.metrics.latency.observe(elapsed, method, path)
            key_id = (scope.get("state") or {}).get("key_id", "-")
            log.info(
                "%s %s %d %.1fms key=%s",
                escape_controls(method),
                escape_controls(mask_pii(scope.get("path", ""))),
                status,
                elapsed * 1000,
                key_id,
            )


def body_too_large(message: str) -> HTTPException:
    """413 naming the body; an ``HTTPException`` so that FastAPI passes it on unchanged from
    wherever the body is being read, to the error handlers."""
    return HTTPException(413, [{"field": "body", "message": message + " (LAPOR_MAX_BODY_BYTES)"}])


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _control_characters(scope) -> tuple[int, dict, dict] | None:
    """400 for a control character in the path or the (decoded) query string: no parameter of
    this API takes one, and PostgreSQL refuses NUL in text (a 500 before)."""
    path = scope.get("path", "")
    query = unquote(scope.get("query_string", b"").decode("latin-1"), errors="replace")
    for field, value in (("path", path), ("query", query)):
        match = _CONTROL.search(value)
        if match:
            char = f"U+{ord(match.group()):04X}"
            message = f"control character {char} in the {field} is not allowed"
            return 400, {"detail": [{"field": field, "message": message}]}, {}
    return None


def _body_without_key(scope) -> tuple[int, dict, dict] | None:
    """401 (or 429) at once for a body sent to ``/v1/`` without a well-formed key: the body is
    not read (a key that needs the database is checked after the body, within the size limit)."""
    if not scope.get("path", "").startswith("/v1/"):
        return None
    headers = dict(scope.get("headers", ()))
    has_body = headers.get(b"transfer-encoding") or headers.get(b"content-length", b"0") != b"0"
    if not has_body:
        return None
    key = headers.get(b"x-api-key", b"").decode("latin-1")
    if not key:
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
    app = scope.get("app")
    state = getattr(getattr(app, "state", None), "lapor", None)
    if state is None:
        return None
    message = MISSING_KEY if not key else "invalid or revoked API key"
    if key and state.keys.verify_cached(key) is not False:
        return None
    error = auth_failed(state, scope, message)
    return error.status_code, {"detail": error.detail}, dict(error.headers or {})


async def _reply(send, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
