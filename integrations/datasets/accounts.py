"""The chart of accounts: incremental by modifiedAt, a full read with deletion detection daily."""

from integrations.datasets.mirroring import RecordMap, datetime, flag, integer, mirror_list, text
from integrations.models import Account
from integrations.xledger import queries

FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
    "owner_db_id": ("ownerDbId", integer),
    "chart_of_account_db_id": ("chartOfAccountDbId", integer),
    "posting": ("posting", flag),
    "vat": ("vat", flag),
    "balance_sheet": ("balanceSheet", flag),
    "modified_at": ("modifiedAt", datetime),
}
MAPPING = RecordMap(Account, FIELDS)


def sync(*, run, client, full):
    mirror_list(
        run=run,
        client=client,
        mapping=MAPPING,
        query=queries.ACCOUNTS,
        incremental=True,
        full=full,
    )
