"""The mirror: the synced copy of each customer's Xledger basic data, one table per kind of record.

Rows are keyed by (connection, Xledger dbId) and keep `owner_db_id`, so each client entity's view is
its own records plus the owner entity's. Deleted records stay as tombstones (`is_deleted`), so the
read API can tell SEMINE about deletions and a bad sync can be undone. `content_hash` lets a sync
count unchanged records without rewriting them.
"""

from django.db import models


class MirrorRecord(models.Model):
    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+"
    )
    db_id = models.BigIntegerField("Xledger dbId")
    owner_db_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    code = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    modified_at = models.DateTimeField(null=True, blank=True, help_text="Xledger's modifiedAt")
    content_hash = models.CharField(max_length=40)
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, help_text="When this mirror row last changed")

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.code} {self.description}".strip()


def unique_key(name):
    return [models.UniqueConstraint(fields=["connection", "db_id"], name=f"uniq_{name}_dbid")]


def read_indexes(name):
    """The read API filters on updated_since; validation looks records up by code."""
    return [
        models.Index(fields=["connection", "updated_at"], name=f"{name}_updated_idx"),
        models.Index(fields=["connection", "code"], name=f"{name}_code_idx"),
    ]


class Supplier(MirrorRecord):
    email = models.CharField(max_length=254, blank=True)
    bank_account = models.CharField(max_length=100, blank=True)
    company_number = models.CharField(max_length=50, blank=True)

    class Meta:
        constraints = unique_key("supplier")
        indexes = read_indexes("supplier")


class Currency(MirrorRecord):
    class Meta:
        verbose_name_plural = "currencies"
        constraints = unique_key("currency")
        indexes = read_indexes("currency")


class ObjectKind(MirrorRecord):
    """A financial dimension type (Xledger object kind); `description` holds its name."""

    class Meta:
        constraints = unique_key("objectkind")
        indexes = read_indexes("objectkind")


class ObjectValue(MirrorRecord):
    """A value of a financial dimension (Xledger object value)."""

    object_kind_db_id = models.BigIntegerField(db_index=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)

    class Meta:
        constraints = unique_key("objectvalue")
        indexes = read_indexes("objectvalue")


class VatCode(MirrorRecord):
    """A VAT code: an object value of the tax-rule object kind, with its rates from
    taxTableSetups. `tax_percent`/`account_db_id`/`rate_from` are the setup in force on the day
    of the last sync (the latest `dateFrom` not after that day); `rates` is the whole dated
    schedule, oldest first, so a rate announced for 1 January is known before then."""

    tax_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    account_db_id = models.BigIntegerField(null=True, blank=True)
    rate_from = models.DateField(null=True, blank=True, help_text="dateFrom of the rate in force")
    rates = models.JSONField(
        default=list, blank=True, help_text="[{dateFrom, taxPercent, accountDbId}], oldest first"
    )

    class Meta:
        constraints = unique_key("vatcode")
        indexes = read_indexes("vatcode")


class Account(MirrorRecord):
    chart_of_account_db_id = models.BigIntegerField(null=True, blank=True)
    posting = models.CharField(max_length=50, blank=True)
    vat = models.CharField(max_length=50, blank=True)
    balance_sheet = models.CharField(max_length=50, blank=True)

    class Meta:
        constraints = unique_key("account")
        indexes = read_indexes("account")


class FixedAsset(MirrorRecord):
    date_purchased = models.DateField(null=True, blank=True)
    asset_group_db_id = models.BigIntegerField(null=True, blank=True)
    asset_status = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = unique_key("fixedasset")
        indexes = read_indexes("fixedasset")
