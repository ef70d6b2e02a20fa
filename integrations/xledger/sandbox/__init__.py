"""A local Xledger simulator: a real GraphQL server (graphql-core) over our Xledger contract.

See ``/work/shared/xledger-api.md`` for the contract and ``sandbox.py`` for the Python API.
"""

from .sandbox import DEMO_TOKEN_PURPOSES, Sandbox

__all__ = ["Sandbox", "DEMO_TOKEN_PURPOSES"]
