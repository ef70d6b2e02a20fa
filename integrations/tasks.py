"""django-q2 tasks: thin. They get ids, never tokens or data; load, call the service, done."""

from integrations import dispatch, services


def run_sync(run_id: int) -> str:
    run = services.run_execute(run_id=run_id)
    return f"run {run_id}: {run.status if run else 'not queued'}"


def dispatch_tick() -> str:
    result = dispatch.tick()
    return f"{len(result.runs)} queued, {result.reaped} reaped"
