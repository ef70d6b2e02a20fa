"""The sessions each user holds, so that a change of factors or role can end the others.

Django's session store cannot be asked "which sessions belong to this user" without decoding
every one of them; this table answers it with an index. A row is written at sign-in and removed
when that session is ended here; rows of sessions that expired on their own are pruned with the
daily retention task (`signin.sessions.prune`).
"""

from django.conf import settings
from django.db import models


class UserSession(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signin_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "session"

    def __str__(self):
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"
