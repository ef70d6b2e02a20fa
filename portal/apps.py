from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Onboarding"

    def ready(self):
        from django.core.checks import Tags, register
        from django.db.models.signals import post_migrate

        from portal import log_redaction
        from portal.checks import DEPLOY_CHECKS
        from portal.roles import sync_group_permissions

        # No invitation or password-reset token in any log line (see portal/log_redaction.py).
        log_redaction.install()

        for check in DEPLOY_CHECKS:
            register(check, Tags.security, deploy=True)

        # After every app's post_migrate, not only portal's: the permissions of apps listed after
        # portal (integrations: runs, issues, invoices) are created in their own post_migrate, so
        # hooking portal's alone would miss them on a fresh database.
        post_migrate.connect(sync_group_permissions, dispatch_uid="portal.sync_group_permissions")
        # The daily erasure of offboarded customers' data (portal.erasure), as the run-history
        # retention's schedule: created after `migrate`, idempotently, under a fixed name.
        post_migrate.connect(_ensure_erasure_schedule, sender=self)


def _ensure_erasure_schedule(sender=None, **kwargs):
    from portal.erasure import ensure_erasure_schedule

    ensure_erasure_schedule()
