"""Break glass: the last superuser lost every second factor (phone, passkey and recovery codes).

Run on the server by someone with shell access, which is the proof of authority here:
`manage.py break_glass <username> --reason "…"`. It removes that superuser's factors, ends their
sessions, e-mails them and records who ran it (the operating-system user and host) in the audit
log. At their next sign-in (password, then `manage.py changepassword` if that is lost too) they
add a factor again. While another superuser can sign in, that superuser resets the factors in
the admin instead, and this command refuses.
"""

import getpass
import socket

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef, Q
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from signin import emails, factors
from signin.sessions import end_other_sessions


class Command(BaseCommand):
    help = "Remove the second factors of the last superuser who can no longer sign in (audited)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why; kept in the audit log.")

    def handle(self, *args, username, reason, **options):
        User = get_user_model()
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None or not user.is_superuser or not user.is_active:
            raise CommandError(f"{username!r} is not an active superuser.")
        if not reason.strip():
            raise CommandError("Say why with --reason.")
        others = (
            User.objects.filter(is_superuser=True, is_active=True)
            .exclude(pk=user.pk)
            .filter(
                Q(Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
                | Q(Exists(WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True)))
            )
            .values_list("username", flat=True)
        )
        if others:
            raise CommandError(
                "Another superuser can sign in and reset the factors in the admin "
                f"(Users → select → Reset second factors): {', '.join(sorted(others))}."
            )
        ran_by = f"{getpass.getuser()}@{socket.gethostname()}"
        removed = factors.reset(
            user=user, by=None, reason=f"{reason.strip()} (ran by {ran_by})", break_glass=True
        )
        ended = end_other_sessions(user.pk, keep="")
        emails.factors_reset(user=user, by_name=f"manage.py break_glass ({ran_by})")
        self.stdout.write(
            f"Removed {removed} second factors of {user.get_username()} and ended {ended} "
            "sessions. They add a factor again at their next sign-in."
        )
