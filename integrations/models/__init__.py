"""The integration engine's tables, one module per idea."""

from integrations.models.connections import ClientEntity, Connection
from integrations.models.schedules import Schedule

__all__ = ["ClientEntity", "Connection", "Schedule"]
