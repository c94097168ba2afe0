"""How the service reads a JSON request body: ``Content-Type`` must say JSON (a clear 415
otherwise), nesting is bounded (a clear 422 instead of a ``RecursionError``), through FastAPI's
documented extension point (a custom ``Request`` and ``APIRoute`` class); the parsing itself is
the standard library's."""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

DEFAULT_MAX_DEPTH = 32


def body_error(status: int, message: str) -> HTTPException:
    return HTTPException(status, [{"field": "body", "message": message}])


def json_depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed JSON) nests lists and objects deeper than ``limit`` levels;
    iterative, so any depth is safe to check."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def is_json_content_type(value: str | None) -> bool:
    if not value:
        return False
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def parse_json_body(body: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """``json.loads`` with its depth bounded: deeper than ``max_depth`` levels is a 422 naming
    the limit (the C parser's own recursion guard raises ``RecursionError`` near 1,000)."""
    try:
        value = json.loads(body)
    except RecursionError:
        value = None
        too_deep = True
    else:
        too_deep = json_depth_over(value, max_depth)
    if too_deep:
        raise body_error(422, f"JSON nested deeper than {max_depth} levels (the limit)")
    return value


class JsonBodyRequest(Request):
    async def body(self) -> bytes:
        data = await super().body()
        if data and not is_json_content_type(self.headers.get("content-type")):
            got = self.headers.get("content-type")
            raise body_error(
                415,
                "send Content-Type: application/json with a JSON body"
                + (f" (got {got!r})" if got else " (the header is missing)"),
            )
        return data

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            state = getattr(self.app.state, "lapor", None)
            depth = state.settings.max_json_depth if state is not None else DEFAULT_MAX_DEPTH
            self._json = parse_json_body(await self.body(), depth)
        return self._json


class JsonRoute(APIRoute):
    """The route class of every router: requests read with :class:`JsonBodyRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            return await handler(JsonBodyRequest(request.scope, request.receive))

        return route_handler
