"""Claiming is safe across workers: every pending invoice is claimed by exactly one of them."""

import threading
from datetime import timedelta

import pytest
from django.db import connection as db
from django.db import connections, transaction

from integrations.invoices import outbox
from integrations.models import Invoice
from tests.integrations.invoices.conftest import invoice_rows


def claim_until_empty(connection, claims, errors, barrier):
    try:
        barrier.wait()
        while True:
            token = outbox.new_claim_token()
            got = outbox.claim_pending(connection, token=token, lease=timedelta(minutes=5))
            if not got:
                return
            claims.extend((token, invoice.pk) for invoice in got)
    except Exception as exc:  # pragma: no cover - reported below
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_claim_the_same_invoice(connection, settings):
    settings.INVOICE_BATCH_MAX_ITEMS = 30
    invoice_rows(connection, 300, supplier="20001")
    claims, errors = [], []
    barrier = threading.Barrier(4)
    threads = [
        threading.Thread(target=claim_until_empty, args=(connection, claims, errors, barrier))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    claimed_ids = [pk for _, pk in claims]
    assert len(claimed_ids) == len(set(claimed_ids)) == 300
    assert set(Invoice.objects.values_list("attempts", flat=True)) == {1}
    assert set(Invoice.objects.values_list("status", flat=True)) == {"sending"}


@pytest.mark.postgres
@pytest.mark.skipif(db.vendor != "postgresql", reason="SKIP LOCKED is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_worker_skips_rows_another_worker_has_locked(connection):
    first, *rest = invoice_rows(connection, 5, supplier="20001")
    locked = threading.Event()
    release = threading.Event()

    def hold_lock():
        with transaction.atomic():
            list(Invoice.objects.select_for_update().filter(pk=first.pk))
            locked.set()
            release.wait(10)
        connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        got = outbox.claim_pending(
            connection, token=outbox.new_claim_token(), lease=timedelta(minutes=5)
        )
        assert [i.pk for i in got] == [i.pk for i in rest]  # no waiting on the locked row
    finally:
        release.set()
        holder.join()
