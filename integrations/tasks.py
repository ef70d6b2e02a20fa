"""django-q2 tasks: thin. They get ids, never tokens or data; load, call the service, done."""

from datetime import timedelta

from django.utils import timezone

from integrations import dispatch, services


def ensure_daily_schedule(*, name: str, func: str, hour: int, minute: int):
    """Create (or leave) a daily django-q2 schedule of `func`, first at hour:minute tomorrow;
    safe to call after every `migrate`."""
    from django_q.models import Schedule as QSchedule

    first = timezone.now().replace(hour=hour, minute=minute, second=0, microsecond=0)
    schedule, _ = QSchedule.objects.get_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": QSchedule.DAILY,
            "repeats": -1,
            "next_run": first + timedelta(days=1),
        },
    )
    return schedule


def run_sync(run_id: int) -> str:
    run = services.run_execute(run_id=run_id)
    return f"run {run_id}: {run.status if run else 'not queued'}"


def dispatch_tick() -> str:
    result = dispatch.tick()
    return f"{len(result.runs)} queued, {result.reaped} reaped"
