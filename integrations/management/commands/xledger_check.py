"""`manage.py xledger_check --owner 10001`: the token checklist, from a terminal.

The token is read from the XLEDGER_TOKEN environment variable or a hidden prompt, never from
an argument: arguments end up in shell history and in every `ps` listing on the machine.
"""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Connection
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import AuthenticationError, XledgerError
from integrations.xledger.verify import verify


class Command(BaseCommand):
    help = (
        "Check an Xledger API token against an Owner ID and print what it may read and write. "
        "The token comes from $XLEDGER_TOKEN or a hidden prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", type=int, required=True, help="The Owner ID (entity).")
        parser.add_argument(
            "--environment",
            choices=Connection.Environment.values,
            default=Connection.Environment.PRODUCTION,
            help="Which Xledger the token was made in (default: production).",
        )
        parser.add_argument("--url", help="A GraphQL endpoint to use instead (e.g. the sandbox).")
        parser.add_argument(
            "--fixed-assets", action="store_true", help="The customer syncs fixed assets."
        )

    def handle(self, *args, **options):
        token = os.environ.get("XLEDGER_TOKEN") or getpass.getpass("Xledger API token: ")
        url = options["url"] or Connection(environment=options["environment"]).api_url
        self.stdout.write(f"Checking the token against {url} for Owner ID {options['owner']}")
        try:
            with XledgerClient(token, url=url) as client:
                result = verify(client, options["owner"], fixed_assets=options["fixed_assets"])
        except AuthenticationError as exc:  # a token of the wrong shape, refused unsent
            raise CommandError(str(exc)) from None
        except XledgerError as exc:
            raise CommandError(f"Xledger could not be reached or refused us: {exc}") from None

        if result.owner:
            owner = result.owner
            self.stdout.write(
                f"Owner: {owner['dbId']} {owner.get('code') or ''} {owner.get('description') or ''}"
            )
        for entity in result.entities:
            marker = "owner" if entity["is_owner"] else "client"
            names = " ".join(str(v) for v in (entity["code"], entity["description"]) if v)
            self.stdout.write(f"  {marker:6} {entity['dbId']} {names}")
        for check in result.checks:
            mark = "✓" if check.ok else "✗"
            self.stdout.write(f"{mark} {check.label}")
            if check.fix:
                self.stdout.write(f"    {check.fix}")
        self.stdout.write(f"{result.requests} requests made to Xledger.")
        if not result.ok:
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("The token is ready."))
