"""The time sessions are measured by; tests replace `now` instead of waiting."""

import time


def now() -> float:
    return time.time()
