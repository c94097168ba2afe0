"""Pure ASGI middleware: request size limit, metrics and a (masked) access log."""

from __future__ import annotations

import json
import logging
import time

from lapor_triage.service.metrics import ServiceMetrics
from lapor_triage.text import mask_pii

log = logging.getLogger("service.access")


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
            await self.app(scope, receive, send_wrapper)
        except Exception:
            if not started:
                status = 500
                await _reply(send_wrapper, 500, {"detail": "internal error (logged)"})
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
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
                method,
                mask_pii(scope.get("path", "")),
                status,
                elapsed * 1000,
                key_id,
            )


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reply(send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
