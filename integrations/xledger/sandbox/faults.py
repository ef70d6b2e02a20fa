"""Faults the sandbox can be told to produce, so the client's retry logic meets each one.

A fault fires on every request, on the next ``count`` requests, or with a ``probability``
drawn from a seeded generator (so a flaky run can be replayed). ``field`` limits a fault to
requests that ask for that root field, e.g. only the invoice mutation; ``min_first=N`` to
requests that ask (that field) for a page larger than N, so a client that shrinks its pages
gets through (meant for ``query_timeout``). ``maintenance`` answers 200, or ``status=503``.
"""

import random
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

FAULT_NAMES = (
    "http_500",
    "http_429",
    "slow",
    "credits_exhausted",
    "concurrency_limit",
    "query_timeout",
    "drop_after_store",
    "maintenance",
)

# What each fault answers [codes known from Xledger's docs; bodies and HTTP errors ours].
CREDITS_EXHAUSTED = ("Insufficient credits.", "BAD_REQUEST.INSUFFICIENT_CREDITS")
CREDITS_RESET_AFTER = timedelta(minutes=20)
CONCURRENCY_LIMIT = (
    "Too many concurrent requests for this API token.",
    "BAD_REQUEST.CONCURRENCY_LIMIT_REACHED",
)
QUERY_TIMEOUT = ("Your query timed out.", "BAD_REQUEST.QUERY_TIMEOUT")
HTTP_500 = ("Internal server error.", "INTERNAL_SERVER_ERROR")
HTTP_429 = ("Too many requests.", "TOO_MANY_REQUESTS")
# An error code the client does not know [ours]: Xledger's sample retries such errors for long.
MAINTENANCE = (
    "Xledger is undergoing maintenance. Please try again later.",
    "SERVICE_UNAVAILABLE",
)
DEFAULT_RETRY_AFTER_SECONDS = 1
DEFAULT_SLOW_SECONDS = 1.0


@dataclass
class Fault:
    name: str
    count: int | None = None
    probability: float | None = None
    params: dict = field(default_factory=dict)
    fired: int = 0


class Faults:
    def __init__(self, seed: int):
        self._rng = random.Random(f"sandbox-faults-{seed}")
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def set(self, name: str, count: int | None = None, probability: float | None = None, **params):
        if name not in FAULT_NAMES:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
        with self._lock:
            self._faults[name] = Fault(name, count, probability, params)

    def clear(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._faults.clear()
            else:
                self._faults.pop(name, None)

    def take(
        self,
        name: str,
        fields: Collection[str] = frozenset(),
        sizes: Mapping[str, list[int]] | None = None,
    ) -> dict | None:
        """The fault's parameters if it fires on this request (using up one of its count).

        ``sizes`` holds the page size each root field asks for, for ``min_first``.
        """
        with self._lock:
            fault = self._faults.get(name)
            if fault is None:
                return None
            only = fault.params.get("field")
            if only is not None and only not in fields:
                return None
            min_first = fault.params.get("min_first")
            if min_first is not None:
                sizes = sizes or {}
                asked = sizes.get(only, []) if only is not None else sum(sizes.values(), [])
                if not any(size > int(min_first) for size in asked):
                    return None
            if fault.probability is not None and self._rng.random() >= fault.probability:
                return None
            fault.fired += 1
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    del self._faults[name]
            return fault.params

    def describe(self) -> dict:
        with self._lock:
            return {
                f.name: {"count": f.count, "probability": f.probability, **f.params}
                for f in self._faults.values()
            }
