"""Xledger's dbIds as we keep them: integers.

Xledger's own sample reads dbIds through an `Int64String` mapping (a string parsed to a long);
other clients read JSON numbers [known, seen]. Every answer's dbIds go through `db_id_of`, so
either reading gives the same integers.
"""


def db_id_of(value) -> int | None:
    """A dbId as Xledger sent it (a JSON number, or a string of digits) as an integer; None if
    it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
