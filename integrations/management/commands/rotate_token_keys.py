"""Re-encrypt every stored API token with the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keeping the old ones after it), deploy,
run this command, then remove the old keys.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integrations import crypto
from integrations.fields import Secret
from integrations.models import Connection


class Command(BaseCommand):
    help = "Re-encrypt every stored Xledger API token with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        changed = unchanged = 0
        with transaction.atomic():
            rows = Connection.objects.select_for_update().filter(api_token__isnull=False)
            for connection in rows.only("pk", "api_token"):
                ciphertext = connection.api_token.ciphertext
                if crypto.is_under_newest_key(ciphertext):
                    unchanged += 1
                    continue
                try:
                    rotated = crypto.rotate(ciphertext)
                except crypto.TokenDecryptionError as exc:
                    raise CommandError(f"Connection {connection.pk}: {exc}") from None
                # .update() writes the raw ciphertext: no re-encryption, no model side effects.
                Connection.objects.filter(pk=connection.pk).update(api_token=Secret(rotated))
                changed += 1
        self.stdout.write(
            f"Re-encrypted {changed} token(s) with the newest key; {unchanged} already used it."
        )
