"""Object kinds are known by their dbId from now on (no public Xledger client shows a `code` on
object kinds): a connection's chosen dimensions become the kinds' dbIds as text."""

from django.db import migrations


def codes_to_keys(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    ObjectKind = apps.get_model("integrations", "ObjectKind")
    for connection in Connection.objects.exclude(selected_dimensions=[]):
        by_code = {
            str(k.get("code")): str(k.get("dbId"))
            for k in (connection.verification or {}).get("object_kinds", [])
            if k.get("code") and k.get("dbId") is not None
        }
        for code, db_id in ObjectKind.objects.filter(connection=connection).values_list(
            "code", "db_id"
        ):
            by_code.setdefault(code, str(db_id))
        keys = [by_code.get(str(code), str(code)) for code in connection.selected_dimensions or []]
        if keys != connection.selected_dimensions:
            connection.selected_dimensions = keys
            connection.save(update_fields=["selected_dimensions"])


class Migration(migrations.Migration):
    dependencies = [("integrations", "0008_schema_mismatch_issue")]
    operations = [migrations.RunPython(codes_to_keys, migrations.RunPython.noop)]
