"""A local Xledger simulator: a real GraphQL server (graphql-core) over our Xledger contract.

See ``/work/shared/xledger-api.md`` for the contract, ``sandbox.py`` for the Python API and
``dialects.py`` for the readings of the contract's uncertain points it can play.
"""

from .dialects import DIALECTS, Dialect, dialect_from_env
from .sandbox import DEMO_TOKEN_PURPOSES, OWNERS_ENV_VAR, Sandbox, owners_from_env

__all__ = [
    "Sandbox",
    "DEMO_TOKEN_PURPOSES",
    "DIALECTS",
    "Dialect",
    "dialect_from_env",
    "OWNERS_ENV_VAR",
    "owners_from_env",
]
