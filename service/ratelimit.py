"""Failed authentications per client address, counted with the maintained ``limits`` package
(moving window). Past ``LAPOR_AUTH_FAILURE_LIMIT`` (20 per minute) a client's failing requests
get 429 with ``Retry-After`` instead of 401; requests with a valid key are never refused here.

The counts live in ``LAPOR_AUTH_FAILURE_STORAGE``: ``memory://`` (the default) is per worker
process, so with ``--workers N`` a client may fail up to N times the limit; a shared storage
(``redis://...``, ``memcached://...``) makes it one limit for all workers and instances.
"""

from __future__ import annotations

import math
import time
from collections.abc import MutableMapping
from typing import Any

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_NAMESPACE = "lapor-auth-failures"


class AuthFailureLimiter:
    def __init__(self, limit: str, storage_uri: str = "memory://"):
        try:
            self.limit = parse(limit)
        except ValueError as exc:
            raise ValueError(
                f"LAPOR_AUTH_FAILURE_LIMIT={limit!r} is not a rate such as '20/minute'"
            ) from exc
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may fail again, or ``None`` when it is under the limit."""
        if self.limiter.test(self.limit, _NAMESPACE, client):
            return None
        reset, _ = self.limiter.get_window_stats(self.limit, _NAMESPACE, client)
        return max(1, math.ceil(reset - time.time()))

    def failed(self, client: str) -> None:
        """Count one failed authentication of ``client``."""
        self.limiter.hit(self.limit, _NAMESPACE, client)


def client_address(scope: MutableMapping[str, Any]) -> str:
    """The client's address as the ASGI server reports it: the TCP peer under ``lapor-triage
    serve`` (proxy headers off)."""
    client = scope.get("client")
    return client[0] if client else "unknown"
