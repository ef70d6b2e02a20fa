from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Onboarding"

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.roles import sync_group_permissions

        post_migrate.connect(sync_group_permissions, sender=self)
