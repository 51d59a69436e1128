"""A token bucket per API token: `rate` requests a minute, with bursts up to `rate`."""

from __future__ import annotations

import math
import threading
import time

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0  # tokens a second
        self._buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, when)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if `client` may go ahead (one request counted), else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.refill)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return max(1.0, math.ceil((1.0 - tokens) / self.refill))
