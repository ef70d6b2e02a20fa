"""The invoice outbox: approved invoices from SEMINE waiting for, being, or having been sent to
Xledger.

An invoice moves `pending → sending → sent | rejected | in_doubt`, and may be `cancelled` while it
is pending or rejected. Everything the sender needs to be safe across crashes lives on the row:

- `claimed_by` / `claimed_until` are a lease. A worker claims invoices with a conditional UPDATE
  (or `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL); an invoice whose lease ran out while it
  was `sending` belonged to a worker that died, and is looked up in Xledger before anything else.
- `xledger_db_ids` maps each import item's clientId to the dbId Xledger gave it, so an invoice
  whose items went in only partly is completed, never doubled.
- `lookup_failures` counts the lookups in a row that Xledger refused for an invoice in doubt
  (it stays in doubt and is looked up again later; it never holds back the others).
- `attachment_status` says whether the PDF was seen on the stored supplier line: an invoice
  whose items are in Xledger is `sent` even when its PDF did not arrive, and says so here.
- `request_hash` is the SHA-256 of the submission as SEMINE sent it: the same body again is the
  same invoice, a different body under the same external id is a conflict.

PDFs are stored in the database (`InvoiceAttachment`), not on a file system: the web process and
the workers may run on different machines, and the attachment must commit with its invoice.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

AMOUNT = {"max_digits": 18, "decimal_places": 2}


class Invoice(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        REJECTED = "rejected", _("Rejected by Xledger")
        IN_DOUBT = "in_doubt", _("In doubt")
        CANCELLED = "cancelled", _("Cancelled")

    class AttachmentStatus(models.TextChoices):
        NONE = "", _("No PDF, or not sent yet")
        CONFIRMED = "confirmed", _("PDF seen on the stored supplier line")
        MISSING = "missing", _("PDF not on the stored supplier line")
        UNCHECKED = "unchecked", _("PDF sent, not yet checked in Xledger")

    FINAL_STATUSES = (Status.SENT, Status.CANCELLED)
    RETRYABLE_STATUSES = (Status.REJECTED,)
    CANCELLABLE_STATUSES = (Status.PENDING, Status.REJECTED)

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="invoices"
    )
    entity = models.ForeignKey(
        "integrations.ClientEntity",
        on_delete=models.PROTECT,
        related_name="invoices",
        help_text=_("The Xledger client entity the invoice is posted in."),
    )
    external_id = models.CharField(_("SEMINE's id"), max_length=100)
    request_hash = models.CharField(max_length=64, editable=False)

    supplier_code = models.CharField(max_length=100)
    invoice_number = models.CharField(max_length=100)
    invoice_date = models.DateField()
    due_date = models.DateField()
    posted_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=10)
    amount = models.DecimalField(_("total incl. VAT"), **AMOUNT)
    vat_amount = models.DecimalField(_("VAT"), **AMOUNT)
    text = models.CharField(max_length=500, blank=True)
    item_count = models.PositiveIntegerField(
        default=0, help_text=_("Xledger import items: the supplier line plus one per line.")
    )
    attachment_size = models.PositiveIntegerField(default=0, help_text=_("PDF bytes, 0 if none"))
    attachment_status = models.CharField(
        max_length=20, choices=AttachmentStatus.choices, default=AttachmentStatus.NONE, blank=True
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0, help_text=_("Times it was sent to Xledger"))
    lookups = models.PositiveIntegerField(
        default=0, help_text=_("Times it was looked up in Xledger after a send ended in doubt")
    )
    lookup_failures = models.PositiveIntegerField(
        default=0, help_text=_("Lookups in a row that Xledger refused while it was in doubt")
    )
    claimed_by = models.CharField(max_length=100, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    xledger_db_ids = models.JSONField(
        default=dict, blank=True, help_text=_("Import item clientId → Xledger dbId")
    )
    xledger_message = models.TextField(blank=True, help_text=_("Why Xledger rejected it"))
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.CharField(max_length=100, blank=True, help_text=_("API key name"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "external_id"], name="uniq_invoice_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["connection", "status", "id"], name="invoice_outbox_idx"),
            models.Index(fields=["status", "claimed_until"], name="invoice_claim_idx"),
            # The dispatcher's one query a tick: which connections have anything to send or to
            # settle. Only open invoices are in it, so it stays small however many were sent.
            models.Index(
                fields=["connection"],
                name="invoice_open_idx",
                condition=models.Q(status__in=["pending", "in_doubt", "sending"]),
            ),
            # PDFs still to be checked in Xledger (a few at most), read with each PDF batch.
            models.Index(
                fields=["connection", "id"],
                name="invoice_pdf_unchecked_idx",
                condition=models.Q(attachment_status="unchecked"),
            ),
        ]
        permissions = [("retry_invoice", "Can retry or cancel an invoice to Xledger")]

    def __str__(self):
        return f"{self.invoice_number} ({self.external_id})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


class InvoiceLine(models.Model):
    """One accounting line: becomes one Xledger import item next to the supplier line."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(help_text=_("1, 2, ... in SEMINE's order"))
    account = models.CharField(max_length=100)
    vat_code = models.CharField(max_length=100)
    amount = models.DecimalField(_("amount excl. VAT"), **AMOUNT)
    text = models.CharField(max_length=500, blank=True)
    dimensions = models.JSONField(
        default=dict, blank=True, help_text=_("Object kind code → object value code")
    )
    gl_objects = models.JSONField(
        default=dict, blank=True, help_text=_("Xledger glObject slot (1-5) → value code")
    )

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="uniq_invoice_line")
        ]

    def __str__(self):
        return f"{self.invoice} line {self.position}"


class InvoiceAttachment(models.Model):
    """The invoice's PDF, checked at intake (magic bytes, size) and sent with the supplier line."""

    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="attachment")
    file_name = models.CharField(max_length=200)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self):
        return self.file_name
