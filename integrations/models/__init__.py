"""The integration engine's tables, one module per idea."""

from integrations.models.api_keys import ApiKey
from integrations.models.connections import ClientEntity, Connection
from integrations.models.engine import DispatcherTick
from integrations.models.interval_requests import IntervalRequest
from integrations.models.invoices import Invoice, InvoiceAttachment, InvoiceLine
from integrations.models.mirror import (
    Account,
    Currency,
    FixedAsset,
    ObjectKind,
    ObjectValue,
    Supplier,
    VatCode,
)
from integrations.models.runs import Issue, RequestUsage, Run, RunDay
from integrations.models.schedules import Schedule
from integrations.models.scope_changes import ScopeChange

__all__ = [
    "ApiKey",
    "Account",
    "ClientEntity",
    "Connection",
    "Currency",
    "DispatcherTick",
    "FixedAsset",
    "Invoice",
    "InvoiceAttachment",
    "InvoiceLine",
    "IntervalRequest",
    "Issue",
    "ObjectKind",
    "ObjectValue",
    "RequestUsage",
    "Run",
    "RunDay",
    "Schedule",
    "ScopeChange",
    "Supplier",
    "VatCode",
]
