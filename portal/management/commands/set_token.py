"""Break glass: `manage.py set_token CONNECTION --by SUPERUSER --reason TEXT`.

Staff never handle a token: they send the customer a replace-token link
(`portal.token_requests`). This command is for the day that cannot work, and only for a
superuser at the server. The token is read from a hidden prompt (`getpass`: never an argument,
so never in the shell history or the process list, and never echoed) and goes to the same
services as the customer's token page: on a live connection the new token is checked with
Xledger before it replaces the working one (`connection_replace_token`), before go-live it is
stored and then checked (`connection_save_token`). Besides those services' own audit entries, a
`break_glass_token` entry records who, why, on which connection and the outcome; never the token.
"""

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from integrations.models import Connection
from integrations.xledger.client import clean_token
from portal import services
from portal.ids import parse_id
from portal.models import AuditEntry

SUCCESS = {"replaced", "verified"}


class Command(BaseCommand):
    help = (
        "Break glass: set the API token of one connection, typed at a hidden prompt "
        "(superusers only; audited with the reason)."
    )

    def add_arguments(self, parser):
        parser.add_argument("connection", help="The connection's id")
        parser.add_argument("--by", required=True, help="Your username (an active superuser)")
        parser.add_argument("--reason", required=True, help="Why staff set the token (audited)")

    def handle(self, *args, connection, by, reason, **options):
        user = (
            get_user_model().objects.filter(username=by, is_active=True, is_superuser=True).first()
        )
        if user is None:
            raise CommandError(f"{by!r} is not an active superuser: only a superuser may do this.")
        reason = " ".join(reason.split())
        if not reason:
            raise CommandError("Say why (--reason): it goes into the audit log.")
        target = self._connection(connection)
        token = clean_token(getpass.getpass("New Xledger API token (not shown): "))
        if token is None:
            raise CommandError(
                "That does not look like an Xledger API token (one word of letters, digits, "
                "'-' and '_'). Nothing was changed."
            )
        live = target.is_live
        try:
            if live:
                result = services.connection_replace_token(connection=target, token=token, by=user)
            else:
                result = services.connection_save_token(
                    customer=target.customer,
                    connection=target,
                    by=user,
                    owner_entity_id=target.owner_entity_id,
                    environment=target.environment,
                    token=token,
                )
        except services.OnboardingError as exc:
            self._record(user, target, reason, live=live, outcome="refused")
            raise CommandError(f"{exc} Nothing was changed.") from None
        self._record(user, target, reason, live=live, outcome=result.outcome)
        self._report(result, live=live)
        if result.outcome not in SUCCESS:
            raise CommandError(f"Outcome: {result.outcome}.")

    @staticmethod
    def _connection(value) -> Connection:
        pk = parse_id(value)
        found = (
            Connection.objects.select_related("customer").filter(pk=pk).first()
            if pk is not None
            else None
        )
        if found is None:
            raise CommandError(f"No connection {value!r}.")
        if found.is_removed:
            raise CommandError("This connection was removed; its token is gone for good.")
        return found

    @staticmethod
    def _record(user, connection, reason, *, live, outcome):
        connection.refresh_from_db(fields=["token_fingerprint"])
        AuditEntry.record(
            actor=user,
            action="break_glass_token",
            customer=connection.customer,
            target=f"connection {connection.pk}",
            after={
                "outcome": outcome,
                "live": live,
                "token_fingerprint": connection.token_fingerprint,
            },
            comment=f"manage.py set_token: {reason}"[:2000],
        )

    def _report(self, result, *, live):
        if result.outcome == "replaced":
            self.stdout.write("Replaced: the new token passed every check.")
        elif result.outcome == "verified":
            self.stdout.write("Saved: the token passed every check.")
        elif live:
            self.stdout.write(f"Not replaced ({result.outcome}): the working token is kept.")
        else:
            self.stdout.write(f"Saved, but the check did not pass ({result.outcome}).")
        verification = result.verification
        for check in verification.checks if verification is not None else []:
            if not check.ok:
                self.stdout.write(f"  ✗ {check.label}" + (f" — {check.fix}" if check.fix else ""))
