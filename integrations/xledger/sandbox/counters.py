"""Request counts, because Xledger charges per request and tests check we ask sparingly.

Every request is counted, failed ones too: in total, per token, and per root field.
"""

import threading
from collections import Counter


class RequestCounters:
    def __init__(self):
        self._lock = threading.Lock()
        self.total = 0
        self.by_token: Counter[str] = Counter()
        self.by_field: Counter[str] = Counter()

    def count(self, token: str | None, fields) -> None:
        with self._lock:
            self.total += 1
            if token is not None:
                self.by_token[token] += 1
            self.by_field.update(fields)

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_token.clear()
            self.by_field.clear()
