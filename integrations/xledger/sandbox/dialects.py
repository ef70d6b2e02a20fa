"""Dialects: readings of the uncertain points of the Xledger contract that the sandbox can play.

Every point the contract marks [seen] or [ours] could turn out otherwise on the live service.
A ``Dialect`` names one reading per point, so a test suite can run the product's client against
another plausible server: ``Sandbox(dialect="xledger")``, or for a whole run
``XLEDGER_SANDBOX_DIALECT=xledger`` (with overrides: ``xledger,page_order=dbid``).

"ours" is the reading the sandbox always played; "xledger" is the one closest to Xledger's own
public sample code; "mixed" crosses the two.
"""

import dataclasses
import os
from dataclasses import dataclass

ENV_VAR = "XLEDGER_SANDBOX_DIALECT"
DEFAULT = "ours"

# field -> the values it may take (booleans for on/off knobs).
CHOICES = {
    "datetime_scalar": ("DateTime", "DateTimeString"),
    "datetime_offsets": (True, False),
    "dbid_type": ("Int", "Int64String"),
    "end_cursor": (True, False),
    "object_kind_code": (True, False),
    "import_item_client_id": (True, False),
    "multipart": ("spec", "xledger"),
    "missing_scope": ("partial", "null"),
    "revoked": ("http401", "http200"),
    "batch_errors": ("partial", "whole", "partial_by_index"),
    "transaction_source_required": (False, True),
    "page_order": ("dbid", "shuffled"),
    "last_semantics": ("newest", "forward"),
    "reset_at": ("utc", "cet_naive"),
    "empty_batch": ("ok", "invalid"),
}


@dataclass(frozen=True)
class Dialect:
    """One reading of every uncertain point; the defaults are "ours"."""

    name: str = "ours"
    # Name of the date-time scalar (modifiedAt, createdAt, modifiedAt_gte).
    datetime_scalar: str = "DateTime"
    # True: Oslo time with offset, compared as instants. False: CET/CEST wall time with no
    # offset, filter values with an offset refused, compared as wall-clock strings.
    datetime_offsets: bool = True
    # "Int": dbIds are JSON numbers. "Int64String": strings of digits, input scalar strict.
    dbid_type: str = "Int"
    # PageInfo has startCursor/endCursor.
    end_cursor: bool = True
    # ObjectKind has a code field.
    object_kind_code: bool = True
    # A stored GLImportItem answers clientId.
    import_item_client_id: bool = True
    # "spec": graphql-multipart-request (operations, map, files). "xledger": files first, the
    # JSON part last, files named by filename in invoiceFile; files after the JSON are lost.
    multipart: str = "spec"
    # "partial": forbidden fields null, others answered. "null": data null, FORBIDDEN errors.
    missing_scope: str = "partial"
    # "http401": 401 UNAUTHENTICATED. "http200": 200, data null, an error without a code.
    revoked: str = "http401"
    # "partial": good inputs stored, errors carry extensions.clientId. "whole": nothing stored
    # if any input is bad, errors by path index. "partial_by_index": stored, errors by index.
    batch_errors: str = "partial"
    # Import items must name one of the installation's transaction sources.
    transaction_source_required: bool = False
    # "dbid": dbId order, cursor = dbId. "shuffled": a stable other order, opaque cursors.
    page_order: str = "dbid"
    # last: N without before: "newest" N, or "forward" (the first N).
    last_semantics: str = "newest"
    # extensions.resetAt of exhausted credits: "utc" ISO with offset, "cet_naive" wall time.
    reset_at: str = "utc"
    # addGLImportItems(inputs: []): "ok" no edges, "invalid" a validation error.
    empty_batch: str = "ok"

    def __post_init__(self):
        for knob, allowed in CHOICES.items():
            value = getattr(self, knob)
            if value not in allowed or type(value) is not type(allowed[0]):
                raise ValueError(
                    f"dialect {knob}={value!r}: must be one of {', '.join(map(str, allowed))}"
                )

    def schema_renames(self) -> dict[str, str]:
        """Type names of ``schema.graphql`` (written as "ours") and what this dialect calls them.
        The dbId fields' type (``dbid_type``) is set by ``schema.render_sdl`` field by field."""
        return {
            "DateTime": self.datetime_scalar,
            "Upload": "Upload" if self.multipart == "spec" else "String",
        }

    def knobs(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "name"}


OURS = Dialect()
XLEDGER = Dialect(
    name="xledger",
    datetime_scalar="DateTimeString",
    datetime_offsets=False,
    dbid_type="Int64String",
    end_cursor=False,
    object_kind_code=False,
    import_item_client_id=False,
    multipart="xledger",
    missing_scope="null",
    revoked="http200",
    batch_errors="whole",
    transaction_source_required=True,
    page_order="shuffled",
    last_semantics="forward",
    reset_at="cet_naive",
    empty_batch="invalid",
)
# The readings crossed: some of Xledger's sample, some ours, and the third batch-error reading,
# so that no combination is left to chance (a client that works under "ours" and "xledger" only
# because two of its guesses cancel out fails here).
MIXED = Dialect(
    name="mixed",
    datetime_offsets=False,
    dbid_type="Int64String",
    object_kind_code=False,
    missing_scope="null",
    batch_errors="partial_by_index",
    page_order="shuffled",
    last_semantics="forward",
    empty_batch="invalid",
)
DIALECTS = {"ours": OURS, "xledger": XLEDGER, "mixed": MIXED}


def _parse_value(knob: str, text: str):
    allowed = CHOICES[knob]
    if isinstance(allowed[0], bool):
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"dialect {knob}={text!r}: must be true or false")
    return text.strip()


def dialect_named(spec: str) -> Dialect:
    """A preset by name, optionally with overrides: ``"xledger,page_order=dbid"``."""
    name, *overrides = [part.strip() for part in spec.split(",")]
    name = name or DEFAULT
    if name not in DIALECTS:
        raise ValueError(f"unknown sandbox dialect {name!r}; known: {', '.join(DIALECTS)}")
    dialect = DIALECTS[name]
    if not overrides:
        return dialect
    changes = {}
    for override in overrides:
        knob, sep, value = override.partition("=")
        knob = knob.strip()
        if not sep or knob not in CHOICES:
            raise ValueError(
                f"bad dialect override {override!r}: use knob=value, knobs: {', '.join(CHOICES)}"
            )
        changes[knob] = _parse_value(knob, value)
    return dataclasses.replace(dialect, name=",".join([name, *overrides]), **changes)


def dialect_from_env() -> Dialect:
    """The dialect named by ``XLEDGER_SANDBOX_DIALECT`` ("ours" when unset)."""
    return dialect_named(os.environ.get(ENV_VAR, "") or DEFAULT)


def resolve_dialect(dialect: "Dialect | str | None") -> Dialect:
    if dialect is None:
        return dialect_from_env()
    if isinstance(dialect, Dialect):
        return dialect
    return dialect_named(dialect)
