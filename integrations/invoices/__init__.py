"""Invoices to Xledger: intake, the outbox and the exactly-once sender."""
