"""What one GraphQL request carries through execution: who asks, and what it produced."""

from dataclasses import dataclass, field

from graphql import GraphQLSchema

from .auth import Token
from .dialects import OURS, Dialect
from .store import Store


@dataclass
class RequestContext:
    store: Store
    token: Token
    uploads: dict = field(default_factory=dict)  # multipart part name -> Upload
    # Errors that accompany data instead of replacing it (per-input import validation).
    extra_errors: list[dict] = field(default_factory=list)
    # Set when addGLImportItems processed inputs, so drop_after_store knows to fire.
    mutation_stored: bool = False
    dialect: Dialect = OURS
    schema: GraphQLSchema | None = None  # the sandbox's own schema (its dialect's)

    def visible_entities(self) -> set[int]:
        return {self.token.entity_db_id} | self.store.children_of(self.token.entity_db_id)
