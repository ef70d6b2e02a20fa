"""A customer has one or more connections, one per Xledger owner entity.

Each customer's existing connection stays its first one (the column keeps its values; only the
one-to-one uniqueness goes). One owner entity may be connected once per environment, across all
customers: when existing data breaks that, the migration stops and names the connections, since
choosing which one to keep is a project manager's decision, not the migration's.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def refuse_duplicate_owner_entities(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    seen = {}
    duplicates = []
    for pk, environment, owner, customer in (
        Connection.objects.filter(owner_entity_id__isnull=False)
        .order_by("pk")
        .values_list("pk", "environment", "owner_entity_id", "customer_id")
    ):
        first = seen.setdefault((environment, owner), (pk, customer))
        if first[0] != pk:
            duplicates.append(
                f"owner entity {owner} ({environment}): connection {pk} of customer {customer} "
                f"repeats connection {first[0]} of customer {first[1]}"
            )
    if duplicates:
        raise RuntimeError(
            "One owner entity may be connected only once per environment. Clear the owner "
            "entity ID of the connections that should not keep it, then migrate again:\n  "
            + "\n  ".join(duplicates)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0013_interval_requests"),
        ("portal", "0004_membership_language"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="connection",
            options={
                "ordering": ["pk"],
                "permissions": [
                    ("pause_connection", "Can pause and resume a connection"),
                    ("reverify_connection", "Can re-check a connection's token"),
                    ("resync_connection", "Can trigger a manual resync"),
                    ("remove_connection", "Can remove a connection (its history stays)"),
                ],
            },
        ),
        migrations.AddField(
            model_name="connection",
            name="approval_requested_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="connection",
            name="removed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="connection",
            name="removed_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="connection",
            name="customer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="connections",
                to="portal.customer",
            ),
        ),
        migrations.AlterField(
            model_name="connection",
            name="status",
            field=models.CharField(
                choices=[
                    ("unverified", "Unverified"),
                    ("ok", "OK"),
                    ("needs_attention", "Needs attention"),
                    ("paused", "Paused"),
                    ("removed", "Removed"),
                ],
                default="unverified",
                max_length=20,
            ),
        ),
        migrations.RunPython(refuse_duplicate_owner_entities, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="connection",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("owner_entity_id__isnull", False), ("removed_at__isnull", True)
                ),
                fields=("environment", "owner_entity_id"),
                name="uniq_connection_owner_entity",
            ),
        ),
    ]
