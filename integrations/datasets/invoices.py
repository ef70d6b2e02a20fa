"""Invoices: the one dataset that flows SEMINE → Xledger. Each run sends the outbox.

The dispatcher runs this every 5 minutes by default. When nothing is pending and nothing is in
doubt, it makes no Xledger request at all (one indexed query on our own table decides).
"""

from integrations.invoices.services import invoice_send_all


def sync(*, run, client, full):
    """Send every pending invoice in batches of at most 500 import items, after settling the
    ones in doubt. `full` changes nothing here: the outbox is always read whole."""
    invoice_send_all(connection=run.connection, client=client, run=run)
