"""State of the sync engine itself (not of any one connection)."""

from django.db import models
from django.utils import timezone


class DispatcherTick(models.Model):
    """The dispatcher's last tick: one row (id=1), rewritten by every tick.

    The health endpoint reads `ticked_at`: if it is old, no worker is running the dispatcher and
    nothing is being synced, whatever the runs table says.
    """

    SINGLETON_ID = 1

    ticked_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    enqueued = models.PositiveIntegerField(default=0, help_text="Runs queued by that tick")
    reaped = models.PositiveIntegerField(default=0, help_text="Runs abandoned by that tick")

    class Meta:
        verbose_name = "dispatcher tick"

    def __str__(self):
        return f"Dispatcher tick at {self.ticked_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def record(cls, *, ticked_at, duration_ms=0, enqueued=0, reaped=0) -> None:
        cls.objects.update_or_create(
            id=cls.SINGLETON_ID,
            defaults={
                "ticked_at": ticked_at,
                "duration_ms": duration_ms,
                "enqueued": enqueued,
                "reaped": reaped,
            },
        )

    @classmethod
    def last(cls) -> "DispatcherTick | None":
        return cls.objects.filter(id=cls.SINGLETON_ID).first()
