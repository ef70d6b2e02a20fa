"""Text from Xledger that no database of ours can store, made storable once, where it enters.

Two kinds of character arrive in valid JSON and break a write later:

- NUL (`\\u0000`): PostgreSQL's text and jsonb refuse it, so one supplier whose name holds one
  would fail the whole page (and the run's rejection sample, and its error message).
- An unpaired surrogate (`\\ud800` alone): JSON may escape one, .NET serialisers do, but it is
  no Unicode character. orjson refuses the whole body, PostgreSQL and SQLite's driver refuse the
  string.

Both become U+FFFD (the replacement character, what a UTF-8 decoder makes of broken input), so
one odd record costs one odd character, never a page, a run or a verification. Bodies are
walked only when their bytes can hold one of these, so a normal page costs one byte search.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In the raw bytes: a NUL, its JSON escape, or the escape of any surrogate (paired ones too;
# a false alarm only costs a walk).
_MAYBE_UNSTORABLE = re.compile(rb"\x00|\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def storable_text(text: str) -> str:
    return UNSTORABLE.sub(REPLACEMENT, text) if UNSTORABLE.search(text) else text


def storable(value: Any) -> Any:
    """`value` (parsed JSON) with every string and key made storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable_text(key): storable(item) for key, item in value.items()}
    return value


def may_hold_unstorable(content: bytes) -> bool:
    return _MAYBE_UNSTORABLE.search(content) is not None


def loads_storable(content: bytes) -> Any:
    """Parse a JSON body that `may_hold_unstorable`: the standard library's parser takes the
    unpaired surrogates orjson refuses; the result is then made storable."""
    return storable(json.loads(content))
