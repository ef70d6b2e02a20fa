"""Fixtures shared by the admin tests."""

from tests.admin_sandbox import queued, sandbox  # noqa: F401
