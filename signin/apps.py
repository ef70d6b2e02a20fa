from django.apps import AppConfig


class SigninConfig(AppConfig):
    """Sign-in security: second factors, staff single sign-on, sessions that end."""

    name = "signin"
    verbose_name = "Sign-in security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from signin import sessions  # noqa: F401  (connects the signal receivers)
