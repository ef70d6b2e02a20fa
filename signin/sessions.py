"""Sessions that end: the registry of each user's sessions, the end of the others when a user's
factors or role change, and the limits of a staff session (a working day, and idle time).

A change made while serving a request keeps that request's own session (the person changing
their own factors stays signed in); every other session of the user is deleted from the session
store, wherever it lives (database, cache), so the next request there is anonymous.
"""

import contextvars
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from signin import clock, policy
from signin.models import UserSession

SIGNED_IN_AT = "signin_at"
SEEN_AT = "signin_seen"
# How often the idle clock is written to the session (not on every request).
SEEN_RESOLUTION_SECONDS = 60

# The request being served (set by signin.middleware), so that a change made while serving it
# keeps its own session. Its key is read when the sessions are ended, not when the change is
# made: signing in changes the key.
current_request: contextvars.ContextVar = contextvars.ContextVar(
    "signin_current_request", default=None
)


def _current_key() -> str | None:
    request = current_request.get()
    session = getattr(request, "session", None)
    return getattr(session, "session_key", None)


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def end_other_sessions(user_id: int, *, keep: str | None = None) -> int:
    """End every session of the user but `keep` (by default the one serving this request).
    Returns how many were ended."""
    if keep is None:
        keep = _current_key()
    rows = UserSession.objects.filter(user_id=user_id)
    if keep:
        rows = rows.exclude(session_key=keep)
    keys = list(rows.values_list("session_key", flat=True))
    SessionStore = _store()
    for key in keys:
        SessionStore(session_key=key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def _end_on_commit(user_id: int) -> None:
    request = current_request.get()

    def end():
        session = getattr(request, "session", None)
        end_other_sessions(user_id, keep=getattr(session, "session_key", None) or "")

    transaction.on_commit(end)


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    session = request.session
    now = clock.now()
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now
    if not policy.is_staff_like(user):
        session[policy.REQUIRED] = policy.required_at_sign_in(user)
    if session.session_key is None:
        session.save()
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    UserSession.objects.filter(user=user, created_at__lt=cutoff).delete()
    UserSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


# --- A role changes ----------------------------------------------------------------------------

_ROLE_FIELDS = ("is_staff", "is_superuser", "is_active")


@receiver(pre_save, sender=get_user_model())
def _remember_role(sender, instance, update_fields=None, **kwargs):
    if instance.pk is None or (
        update_fields is not None and not set(update_fields) & set(_ROLE_FIELDS)
    ):
        instance._signin_role_before = None
        return
    instance._signin_role_before = (
        sender.objects.filter(pk=instance.pk).values_list(*_ROLE_FIELDS).first()
    )


@receiver(post_save, sender=get_user_model())
def _role_saved(sender, instance, created, **kwargs):
    before = getattr(instance, "_signin_role_before", None)
    if created or before is None:
        return
    if tuple(getattr(instance, f) for f in _ROLE_FIELDS) != tuple(before):
        _end_on_commit(instance.pk)


@receiver(m2m_changed, sender=get_user_model().groups.through)
def _groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        if action != "post_clear" and not pk_set:
            return
        _end_on_commit(instance.pk)
    else:
        for user_id in pk_set or ():
            _end_on_commit(user_id)


# --- A factor changes --------------------------------------------------------------------------


def _factor_models():
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    return TOTPDevice, StaticDevice, WebAuthnCredential


def _factor_saved(sender, instance, created, **kwargs):
    """A factor confirmed now (added, or an app's first code) ends the other sessions."""
    if instance.confirmed and (
        created or getattr(instance, "_signin_was_confirmed", True) is False
    ):
        _end_on_commit(instance.user_id)


def _factor_pre_save(sender, instance, **kwargs):
    if instance.pk is not None:
        instance._signin_was_confirmed = (
            sender.objects.filter(pk=instance.pk).values_list("confirmed", flat=True).first()
        )


def _factor_deleted(sender, instance, **kwargs):
    _end_on_commit(instance.user_id)


def connect_factor_signals():
    for model in _factor_models():
        pre_save.connect(_factor_pre_save, sender=model, dispatch_uid=f"signin-pre-{model}")
        post_save.connect(_factor_saved, sender=model, dispatch_uid=f"signin-post-{model}")
        post_delete.connect(_factor_deleted, sender=model, dispatch_uid=f"signin-del-{model}")


connect_factor_signals()


# --- Limits of a staff session -----------------------------------------------------------------


def expired(request) -> bool:
    """A staff session past its working day, or idle too long. Marks it seen otherwise."""
    session = request.session
    now = clock.now()
    started = session.get(SIGNED_IN_AT)
    seen = session.get(SEEN_AT, started)
    if started is None:  # signed in before this was recorded: measure from now on
        session[SIGNED_IN_AT] = session[SEEN_AT] = now
        return False
    if now - started > settings.STAFF_SESSION_MAX_AGE.total_seconds():
        return True
    if seen is not None and now - seen > settings.STAFF_SESSION_IDLE.total_seconds():
        return True
    if seen is None or now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SEEN_AT] = now
    return False


# --- A customer starts requiring a second factor -----------------------------------------------


def _customer_pre_save(sender, instance, update_fields=None, **kwargs):
    unchanged = update_fields is not None and "require_mfa" not in update_fields
    instance._signin_required_before = (
        sender.objects.filter(pk=instance.pk).values_list("require_mfa", flat=True).first()
        if instance.pk and not unchanged
        else None
    )


def _customer_saved(sender, instance, created, **kwargs):
    if instance.require_mfa and getattr(instance, "_signin_required_before", None) is False:
        user_ids = list(instance.memberships.values_list("user_id", flat=True))
        transaction.on_commit(lambda: [end_other_sessions(u, keep="") for u in user_ids])


pre_save.connect(_customer_pre_save, sender="portal.Customer", dispatch_uid="signin-customer-pre")
post_save.connect(_customer_saved, sender="portal.Customer", dispatch_uid="signin-customer-post")
