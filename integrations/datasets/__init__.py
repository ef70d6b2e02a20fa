"""The kinds of data that are synced, and their default intervals (from the design table)."""

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


class Dataset(models.TextChoices):
    SUPPLIERS = "suppliers", _("Supplier register")
    CURRENCIES = "currencies", _("Currencies")
    DIMENSIONS = "dimensions", _("Financial dimensions")
    VAT_CODES = "vat_codes", _("VAT codes")
    ACCOUNTS = "accounts", _("Chart of accounts")
    FIXED_ASSETS = "fixed_assets", _("Fixed assets")
    INVOICES = "invoices", _("Invoices to Xledger")


DEFAULT_INTERVALS: dict[str, timedelta] = {
    Dataset.SUPPLIERS: timedelta(minutes=30),
    Dataset.CURRENCIES: timedelta(hours=24),
    Dataset.DIMENSIONS: timedelta(hours=6),
    Dataset.VAT_CODES: timedelta(hours=24),
    Dataset.ACCOUNTS: timedelta(hours=24),
    Dataset.FIXED_ASSETS: timedelta(hours=6),
    Dataset.INVOICES: timedelta(minutes=5),
}

# The order an initial full sync runs in: what others refer to comes first.
INITIAL_SYNC_ORDER = [
    Dataset.CURRENCIES,
    Dataset.ACCOUNTS,
    Dataset.VAT_CODES,
    Dataset.DIMENSIONS,
    Dataset.SUPPLIERS,
    Dataset.FIXED_ASSETS,
]

# The mirror datasets whose records belong to an entity (`ownerDbId`) and are kept only for the
# client entities in scope (`mirroring.excluded_owner_ids`): taking a client entity in or out of
# scope changes what each of them should hold.
ENTITY_SCOPED = frozenset(
    {
        Dataset.SUPPLIERS,
        Dataset.DIMENSIONS,
        Dataset.VAT_CODES,
        Dataset.ACCOUNTS,
        Dataset.FIXED_ASSETS,
    }
)

MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(days=7)
