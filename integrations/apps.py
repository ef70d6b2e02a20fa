from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Xledger integration"

    def ready(self):
        # The dispatcher's django-q2 schedule exists after every `migrate` and every qcluster
        # start (idempotent, under a fixed name).
        from django_q.signals import post_spawn

        post_migrate.connect(_ensure_dispatcher_schedule, sender=self)
        post_migrate.connect(_ensure_prune_schedule, sender=self)
        post_spawn.connect(_ensure_dispatcher_schedule_on_spawn, dispatch_uid="semine-dispatcher")


def _ensure_dispatcher_schedule(sender=None, **kwargs):
    from integrations.dispatch import ensure_dispatcher_schedule

    ensure_dispatcher_schedule()


def _ensure_prune_schedule(sender=None, **kwargs):
    from integrations.retention import ensure_prune_schedule

    ensure_prune_schedule()


def _ensure_dispatcher_schedule_on_spawn(sender=None, proc_name=None, **kwargs):
    import logging

    from django.db import DatabaseError

    try:
        _ensure_dispatcher_schedule()
    except DatabaseError:  # not migrated yet: `migrate` will create it
        logging.getLogger("integrations.dispatch").warning("Dispatcher schedule not ensured")
