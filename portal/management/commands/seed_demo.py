"""Demo data and demo logins for `make run`. Refuses to run with DEBUG off.

With `--sandbox URL` (what `make run` passes once the sandbox answers), the live demo customer gets
the sandbox's published "full" demo token, is verified against the sandbox for real, and goes live,
so the worker starts syncing at once.
"""

import httpx
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integrations.models import Connection, Schedule
from portal.models import Contact, Customer, Membership
from portal.roles import PROJECT_MANAGERS, SUPPORT

DEMO_LOGINS = [
    # username, password, role
    ("admin", "demo-admin-2026", "superuser"),
    ("pm", "demo-pm-2026", PROJECT_MANAGERS),
    ("support", "demo-support-2026", SUPPORT),
    ("kunde", "demo-kunde-2026", "customer"),
]

DEMO_DIMENSIONS = ("Avdeling", "Prosjekt")


class Command(BaseCommand):
    help = "Create demo customers and demo logins (development only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--sandbox",
            default="",
            metavar="URL",
            help="Base URL of a running Xledger sandbox (e.g. http://127.0.0.1:8765): the live "
            "demo customer is connected to it with its published demo token and goes live.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo makes well-known passwords; it runs only with DEBUG on.")
        with transaction.atomic():
            users = self._users()
            live = self._customers(users)
        if options["sandbox"]:
            self._connect_to_sandbox(live, users["pm"], options["sandbox"].rstrip("/"))

        self.stdout.write(self.style.SUCCESS("Demo logins (development only):"))
        for username, password, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<8} {password:<20} {role}")

    def _users(self):
        users = {}
        for username, password, role in DEMO_LOGINS:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@semine.example"}
            )
            user.set_password(password)
            user.is_staff = role != "customer"
            user.is_superuser = role == "superuser"
            user.save()
            if role in (PROJECT_MANAGERS, SUPPORT):
                user.groups.add(Group.objects.get(name=role))
            users[username] = user
        return users

    def _customers(self, users):
        onboarding, _ = Customer.objects.get_or_create(
            legal_name="Nordlys Regnskap AS",
            defaults={
                "country": "NO",
                "project_manager": users["pm"],
                "onboarding_status": Customer.Status.INVITED,
            },
        )
        Membership.objects.update_or_create(user=users["kunde"], defaults={"customer": onboarding})
        Connection.objects.get_or_create(
            customer=onboarding, defaults={"environment": Connection.Environment.DEMO}
        )

        live, created = Customer.objects.get_or_create(
            legal_name="Fjordbåt Shipping AS",
            defaults={
                "organisation_number": "974760673",
                "country": "NO",
                "street_address": "Bryggen 1",
                "postal_code": "5003",
                "city": "Bergen",
                "project_manager": users["pm"],
                "onboarding_status": Customer.Status.SUBMITTED,
                "supplier_posting_account": "2400",
                "customer_posting_account": "1500",
            },
        )
        if created:
            Contact.objects.create(
                customer=live,
                role=Contact.Role.PROJECT,
                name="Åse Ødegård",
                email="ase@fjordbat.example",
                phone="+47 55 00 00 00",
            )
            Contact.objects.create(
                customer=live,
                role=Contact.Role.FINANCE,
                name="Bjørn Sæther",
                email="bjorn@fjordbat.example",
            )
        connection, _ = Connection.objects.get_or_create(
            customer=live, defaults={"environment": Connection.Environment.DEMO}
        )
        Schedule.ensure_for(connection)
        return live

    def _connect_to_sandbox(self, customer, pm, base_url):
        from integrations.services import connection_go_live, connection_reverify

        try:
            info = httpx.get(f"{base_url}/_sandbox/info", timeout=10).raise_for_status().json()
        except httpx.HTTPError as exc:
            raise CommandError(f"The sandbox at {base_url} did not answer: {exc}") from None
        connection = customer.connections.get()
        connection.environment = Connection.Environment.DEMO
        connection.owner_entity_id = info["owner_db_id"]
        if not connection.has_token:
            connection.set_token(info["demo_tokens"]["full"], by=pm)
        connection.save()
        verification = connection_reverify(connection=connection, by=pm)
        if not verification.ok:
            raise CommandError("The sandbox's demo token did not verify; see the connection.")
        connection.refresh_from_db()
        if not connection.selected_dimensions:
            # Two of the demo installation's dimensions, found by name (kinds have no code).
            kinds = [k["code"] for k in verification.object_kinds if k["name"] in DEMO_DIMENSIONS]
            connection.selected_dimensions = kinds[:2]
            connection.save(update_fields=["selected_dimensions"])
        if not connection.is_live:
            connection_go_live(connection=connection, by=pm)
            Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.LIVE)
        self.stdout.write(
            f"Demo customer '{customer}' is live against the sandbox (owner {info['owner_db_id']})."
        )
