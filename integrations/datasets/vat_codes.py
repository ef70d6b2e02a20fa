"""VAT codes: the object values of the tax-rule object kind, with their rates and accounts from
taxTableSetups [seen: no public taxRules/vatCodes query]. Always a full read (small).

Requests: one for the object kinds and tax table setups together, then the values' pages.
"""

from integrations.datasets.mirroring import (
    RecordMap,
    datetime,
    decimal,
    integer,
    mirror_list,
    page_size,
    text,
)
from integrations.models import VatCode
from integrations.xledger import queries
from integrations.xledger.errors import QueryError

# The object kind codes that hold VAT codes: ("TAX_RULE", "MERVERDIAVGIFT") [seen].
TAX_RULE_KIND_CODES = queries.TAX_RULE_OBJECT_KIND_CODES

FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
    "owner_db_id": ("ownerDbId", integer),
    "modified_at": ("modifiedAt", datetime),
    "tax_percent": ("taxPercent", decimal),  # joined in from taxTableSetups
    "account_db_id": ("accountDbId", integer),  # joined in from taxTableSetups
}
MAPPING = RecordMap(VatCode, FIELDS)


def sync(*, run, client, full):
    data = client.execute(queries.KINDS_AND_TAX_SETUPS, {"first": queries.MAX_PAGE_SIZE})
    kinds = [edge["node"] for edge in data["objectKinds"]["edges"]]
    tax_kind = next((k for k in kinds if k.get("code") in TAX_RULE_KIND_CODES), None)
    if data["objectKinds"]["pageInfo"]["hasNextPage"] and tax_kind is None:
        for page in client.paginate(
            first=page_size(),
            document=queries.OBJECT_KINDS,
            path="objectKinds",
            variables={"after": data["objectKinds"]["pageInfo"]["endCursor"]},
        ):
            tax_kind = tax_kind or next(
                (k for k in page.nodes if k.get("code") in TAX_RULE_KIND_CODES), None
            )
            del page  # one page in memory at a time: drop it before the next is read
    if tax_kind is None:
        raise QueryError(
            f"Xledger has no object kind {' or '.join(TAX_RULE_KIND_CODES)}: no VAT codes to read."
        )
    setups = {}
    _add_setups(setups, data["taxTableSetups"]["edges"])
    if data["taxTableSetups"]["pageInfo"]["hasNextPage"]:
        for page in client.paginate(
            first=page_size(),
            document=queries.TAX_TABLE_SETUPS,
            path="taxTableSetups",
            variables={"after": data["taxTableSetups"]["pageInfo"]["endCursor"]},
        ):
            _add_setups(setups, [{"node": n} for n in page.nodes])
            del page  # one page in memory at a time: drop it before the next is read
    run.record_page(requests=client.request_count)

    def rate(node):
        setup = setups.get(node.get("dbId")) or {}
        return {
            "tax_percent": decimal(setup.get("taxPercent")),
            "account_db_id": integer(setup.get("accountDbId")),
        }

    mirror_list(
        run=run,
        client=client,
        mapping=MAPPING,
        document=queries.OBJECT_VALUES,
        path="objectValues",
        variables={"objectKindDbId": tax_kind["dbId"]},
        extra=rate,
    )


def _add_setups(setups: dict, edges) -> None:
    for edge in edges:
        node = edge["node"]
        setups.setdefault(node.get("objectValueDbId"), node)  # the first setup of a value wins
