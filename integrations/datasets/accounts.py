"""The chart of accounts: incremental by modifiedAt, a full read with deletion detection daily."""

from integrations.datasets.mirroring import (
    RecordMap,
    apply_deletions,
    datetime,
    excluded_owner_ids,
    flag,
    integer,
    newest,
    page_size,
    text,
    write_page,
)
from integrations.mirror_writer import MirrorWriter
from integrations.models import Account
from integrations.xledger import queries, timestamps

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
    writer = MirrorWriter(Account, connection_id=run.connection_id, fields=MAPPING.fields)
    excluded = excluded_owner_ids(run.connection)
    watermark = run.schedule.watermark if run.schedule else None
    if full or watermark is None:
        full, document, variables = True, queries.ACCOUNTS, {}
        live_before = writer.live_count()
    else:
        document = queries.ACCOUNTS_MODIFIED_SINCE
        variables = {"modifiedSince": timestamps.modified_since(watermark)}
    seen_max = None
    for page in client.paginate(
        first=page_size(), document=document, path="accounts", variables=variables
    ):
        seen = write_page(
            run=run,
            client=client,
            writer=writer,
            mapping=MAPPING,
            nodes=page.nodes,
            excluded_owners=excluded,
            track=full,
        )
        seen_max = newest(seen_max, seen)
        del page  # one page in memory at a time: drop it before the next is read
    if full:
        apply_deletions(run=run, writers=[writer], live_before=live_before)
    run.watermark = seen_max
    run.save(update_fields=["watermark"])
