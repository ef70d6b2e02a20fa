"""Invoices: whether the PDF arrived in Xledger, and failed lookups in a row while in doubt."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("integrations", "0009_dimension_keys")]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="attachment_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "No PDF, or not sent yet"),
                    ("confirmed", "PDF seen on the stored supplier line"),
                    ("missing", "PDF not on the stored supplier line"),
                    ("unchecked", "PDF sent, not yet checked in Xledger"),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="lookup_failures",
            field=models.PositiveIntegerField(
                default=0, help_text="Lookups in a row that Xledger refused while it was in doubt"
            ),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("attachment_status", "unchecked")),
                fields=["connection", "id"],
                name="invoice_pdf_unchecked_idx",
            ),
        ),
    ]
