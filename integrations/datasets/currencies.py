"""Currencies: always a full read (Xledger offers no modifiedAt filter for them [seen])."""

from integrations.datasets.mirroring import RecordMap, apply_deletions, page_size, text, write_page
from integrations.mirror_writer import MirrorWriter
from integrations.models import Currency
from integrations.xledger import queries

FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
}
MAPPING = RecordMap(Currency, FIELDS)


def sync(*, run, client, full):
    writer = MirrorWriter(Currency, connection_id=run.connection_id, fields=MAPPING.fields)
    live_before = writer.live_count()
    for page in client.paginate(first=page_size(), document=queries.CURRENCIES, path="currencies"):
        write_page(
            run=run, client=client, writer=writer, mapping=MAPPING, nodes=page.nodes, track=True
        )
        del page  # one page in memory at a time: drop it before the next is read
    apply_deletions(run=run, writers=[writer], live_before=live_before)
