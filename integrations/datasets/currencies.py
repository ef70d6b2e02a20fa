"""Currencies: always a full read (Xledger offers no modifiedAt filter for them [seen])."""

from integrations.datasets.mirroring import RecordMap, mirror_list, text
from integrations.models import Currency
from integrations.xledger import queries

FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
}
MAPPING = RecordMap(Currency, FIELDS)


def sync(*, run, client, full):
    mirror_list(run=run, client=client, mapping=MAPPING, query=queries.CURRENCIES)
