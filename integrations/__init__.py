"""The integration engine: connections, schedules, runs, the mirror, the invoice outbox."""
