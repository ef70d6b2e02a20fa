"""GET /health/ — for load balancers and monitoring.

Answers JSON with three checks: the database answers a trivial query, the dispatcher ticked
recently (if it did not, no worker runs it and nothing is synced, whatever the runs table says),
and how many django-q2 tasks wait in the queue. HTTP 200 when healthy; 503 when the database is
unreachable or the last tick is older than settings.HEALTH_MAX_TICK_AGE.
A fresh install has had no tick yet: the first one is owed within the same HEALTH_MAX_TICK_AGE of
the database's first `migrate` (the oldest row in django_migrations, which a restart does not
move), so until then it answers 200 with the dispatcher "waiting" for its first tick, and 503
after (a worker that never started is as much an outage as one that stopped).
The queue length is reported, never judged: a long queue after a deploy is not an outage.
No authentication, and nothing in it names a customer.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from integrations.models import DispatcherTick

DEFAULT_MAX_TICK_AGE = timedelta(minutes=3)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def last_tick_at():
    """When the sync engine's dispatcher last ticked (it records each tick), or None."""
    tick = DispatcherTick.last()
    return tick.ticked_at if tick else None


def installed_at():
    """When this database was first migrated (its oldest applied migration), or None."""
    migrations = MigrationRecorder(connection).migration_qs
    return migrations.aggregate(first=Min("applied"))["first"]


def queued_tasks() -> dict:
    """Tasks waiting for a worker and tasks being worked on, from django-q2's broker."""
    from django_q.brokers import get_broker

    broker = get_broker()
    return {"queued": broker.queue_size(), "in_progress": broker.lock_size()}


def first_tick(now, max_age) -> dict:
    """No tick yet: healthy while the first one may still come (see the module docstring)."""
    try:
        since = installed_at()
    except Exception:
        return {"error": "the dispatcher has never ticked"}
    if since is not None and now - since <= max_age:
        return {
            "ok": True,
            "waiting": "no tick yet",
            "installed_at": since.isoformat(),
            "first_tick_due_by": (since + max_age).isoformat(),
        }
    return {"error": "the dispatcher has never ticked"}


@require_safe
@never_cache
def health(request):
    max_age = getattr(settings, "HEALTH_MAX_TICK_AGE", DEFAULT_MAX_TICK_AGE)
    now = timezone.now()
    checks = {"database": {"ok": database_ok()}}

    dispatcher = {
        "ok": False,
        "last_tick_at": None,
        "age_seconds": None,
        "max_age_seconds": int(max_age.total_seconds()),
    }
    if checks["database"]["ok"]:
        try:
            ticked_at = last_tick_at()
        except Exception:
            ticked_at = None
            dispatcher["error"] = "could not read the last tick"
        if ticked_at is not None:
            age = now - ticked_at
            dispatcher.update(
                ok=age <= max_age,
                last_tick_at=ticked_at.isoformat(),
                age_seconds=round(age.total_seconds(), 1),
            )
        elif "error" not in dispatcher:
            dispatcher.update(first_tick(now, max_age))
    checks["dispatcher"] = dispatcher

    try:
        checks["tasks"] = {"ok": True, **queued_tasks()}
    except Exception:
        checks["tasks"] = {"ok": False, "queued": None, "in_progress": None}

    healthy = checks["database"]["ok"] and checks["dispatcher"]["ok"]
    body = {"status": "ok" if healthy else "fail", "checked_at": now.isoformat(), "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)
