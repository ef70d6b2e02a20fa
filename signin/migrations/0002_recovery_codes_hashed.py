"""Recovery codes made before they were hashed: keep each as its hash (see
`signin.codes.recovery_digests`), so that the codes people hold keep working."""

import hashlib
import hmac
import re

from django.conf import settings
from django.db import migrations

HASHED = re.compile(r"^[0-9a-f]{16}$")


def hash_plain_codes(apps, schema_editor):
    StaticToken = apps.get_model("otp_static", "StaticToken")
    key = settings.FIELD_ENCRYPTION_KEYS[0].encode()
    changed = []
    for token in StaticToken.objects.only("pk", "token").iterator():
        if HASHED.match(token.token):
            continue
        text = "".join(token.token.split()).replace("-", "").lower().encode()
        token.token = hmac.new(key, text, hashlib.sha256).hexdigest()[:16]
        changed.append(token)
    StaticToken.objects.bulk_update(changed, ["token"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("signin", "0001_initial"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_plain_codes, migrations.RunPython.noop)]
