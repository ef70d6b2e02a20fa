"""The staff admin surface of the integration engine: connections, schedules, runs, issues, API
keys and the invoice outbox, in Django's admin.

It lives outside `integrations/` because it calls `portal` (permissions and audit entries via
`portal.operations`), and `integrations` never imports `portal`. The models stay the engine's, so
their admin URLs are still /admin/integrations/<model>/.
"""
