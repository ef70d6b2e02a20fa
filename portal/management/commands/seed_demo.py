"""Demo data and demo logins for `make run`. Refuses to run with DEBUG off."""

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


class Command(BaseCommand):
    help = "Create demo customers and demo logins (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox-url", default="", help="Point the demo connection here.")
        parser.add_argument("--sandbox-token", default="", help=argparse_hidden_help())
        parser.add_argument("--sandbox-owner", type=int, default=None)

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates well-known passwords; it runs only with DEBUG on."
            )
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

        onboarding, _ = Customer.objects.get_or_create(
            legal_name="Nordlys Regnskap AS",
            defaults={
                "country": "NO",
                "project_manager": users["pm"],
                "onboarding_status": Customer.Status.INVITED,
            },
        )
        Membership.objects.update_or_create(user=users["kunde"], defaults={"customer": onboarding})

        live, created = Customer.objects.get_or_create(
            legal_name="Fjordbåt Shipping AS",
            defaults={
                "organisation_number": "974760673",
                "country": "NO",
                "street_address": "Bryggen 1",
                "postal_code": "5003",
                "city": "Bergen",
                "project_manager": users["pm"],
                "onboarding_status": Customer.Status.LIVE,
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
        if options["sandbox_token"] and options["sandbox_owner"]:
            connection.owner_entity_id = options["sandbox_owner"]
            connection.set_token(options["sandbox_token"])
            connection.save()
        Schedule.ensure_for(connection)

        self.stdout.write(self.style.SUCCESS("Demo logins (development only):"))
        for username, password, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<8} {password:<20} {role}")


def argparse_hidden_help():
    return "Demo token for the sandbox (the sandbox's published demo token, never a real one)."
