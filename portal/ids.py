"""Ids that come from outside (a URL, a form, a filter's query string) read in one way.

`int()` takes more than the databases do: "²" and "٣" are digits to `str.isdigit`, a value of
5,000 digits is refused by `int` with ValueError, and one beyond 2**63 - 1 overflows SQLite.
`parse_id` turns anything that is not a plain id into None, for the caller to answer "not found"
or ignore the filter, never a 500.
"""

import re

MAX_ID = 2**63 - 1  # the largest id any database here stores (a signed bigint)
_ID = re.compile(r"[0-9]{1,19}")


def parse_id(value) -> int | None:
    """A positive id from `value` (ASCII digits only), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _ID.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None
