"""1,000 invoices, real worker processes SIGKILLed at random moments, a sandbox over loopback HTTP
that drops connections after storing, answers 500s and enforces a burst limit: every invoice
ends up in Xledger exactly once, and every final status matches the sandbox."""

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection as db

from integrations.models import Invoice
from tests.integrations.invoices.conftest import (
    assert_exactly_once,
    invoice_rows,
    make_sandbox,
    sandbox_connection,
    supplier_code_for,
)

MANAGE = Path(__file__).resolve().parents[3] / "manage.py"
CHURN_SECONDS = 35


def database_url() -> str:
    """The test database, for processes started from a test."""
    s = db.settings_dict
    if db.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"  # noqa: E501


def command(connection_id, *extra):
    return [
        sys.executable, str(MANAGE), "send_invoices", "--connection", str(connection_id),
        "--timeout", "2", "--max-wait", "0.5", "--max-attempts", "2",
        "--lease-seconds", "1", "--margin-seconds", "1", "--settle-seconds", "0.3",
        "--batch-items", "20", *extra,
    ]  # fmt: skip


def worker(connection_id, env, log, *extra):
    return subprocess.Popen(
        command(connection_id, *extra), env=env, stdout=log, stderr=subprocess.STDOUT
    )


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_it_exports_1000_invoices_exactly_once_while_workers_are_killed(tmp_path):
    sb = make_sandbox(burst_limit=True)
    sb.burst_max_requests, sb.burst_window_seconds = 30, 1.0
    connection = sandbox_connection(sb)
    entities = sb.client_entity_ids
    for n, entity_db_id in enumerate(entities):
        entity = connection.entities.get(db_id=entity_db_id)
        supplier = supplier_code_for(sb, entity_db_id)
        lines = (
            (("6300", "1", "80.00"),) if n % 2 else (("6300", "1", "80.00"), ("6800", "1", "20.00"))
        )
        invoice_rows(connection, 500, entity=entity, supplier=supplier, lines=lines, prefix=f"K{n}")
    assert Invoice.objects.count() == 1000

    sb.set_fault("drop_after_store", probability=0.15, field="addGLImportItems")
    sb.set_fault("http_500", probability=0.1)
    # Some sends take a while, so that kills land between a claim and its answer too.
    sb.set_fault("slow", probability=0.4, seconds=0.5, field="addGLImportItems")
    rng = random.Random(20261125)
    log = open(tmp_path / "workers.log", "ab")  # noqa: SIM115
    kills = kills_during_work = 0
    with sb.serve() as url:
        env = {**os.environ, "DATABASE_URL": database_url(), "XLEDGER_API_URL": url}
        loop = ("--loop-seconds", str(CHURN_SECONDS + 30))
        workers = [worker(connection.pk, env, log, *loop) for _ in range(3)]
        deadline = time.monotonic() + CHURN_SECONDS
        try:
            while time.monotonic() < deadline:
                time.sleep(rng.uniform(0.4, 1.6))
                working = Invoice.objects.exclude(status="sent").exists()
                if not working:
                    break
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                kills += 1
                kills_during_work += working
                workers[victim] = worker(connection.pk, env, log, *loop)
        finally:
            for process in workers:
                process.send_signal(signal.SIGKILL)
                process.wait()

        # Whatever the kills left behind: held by dead workers, in doubt, pending. One clean
        # worker, no faults, settles it all (after the dead workers' leases run out).
        sb.clear_faults()
        for _ in range(30):
            if not Invoice.objects.exclude(status="sent").exists():
                break
            subprocess.run(
                command(connection.pk), env=env, stdout=log, stderr=subprocess.STDOUT,
                timeout=60, check=False,
            )  # fmt: skip
            time.sleep(1.0)
    log.close()
    output = (tmp_path / "workers.log").read_text()

    assert_exactly_once(sb, connection)
    assert len(sb.imports) == 500 * 3 + 500 * 2
    # The faults happened: workers were killed while there was work, a killed worker's claim
    # was taken over, and sends that ended in doubt were looked up.
    assert kills_during_work >= 10, kills_during_work
    expired = sum(int(n) for n in re.findall(r"expired=(\d+)", output))
    assert expired > 0, "no killed worker's claim was taken over"
    assert sum(Invoice.objects.values_list("lookups", flat=True)) > 0
