"""Roles: which permissions each staff group holds, and what a customer's user may be.

The groups are created by a data migration; `sync_group_permissions` also runs after every
`migrate` so that permissions added by later features reach the groups without a new migration.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerRole(models.TextChoices):
    """What a customer's user may do in the portal (`Membership.role`, `Invitation.role`).

    A member does everything the customer does. An IT partner, invited by the customer, may only
    read the token instructions, enter owner IDs and tokens and choose the scope
    (`portal.views.access.it_partner_allowed` marks those pages)."""

    MEMBER = "member", _("Customer user")
    IT_PARTNER = "it_partner", _("IT partner")


PROJECT_MANAGERS = "Project managers"
SUPPORT = "Support"

# app_label.codename. Neither role may ever read a token: no permission here exposes one.
GROUP_PERMISSIONS: dict[str, list[str]] = {
    PROJECT_MANAGERS: [
        "portal.view_customer",
        "portal.add_customer",
        "portal.change_customer",
        "portal.view_contact",
        "portal.add_contact",
        "portal.change_contact",
        "portal.delete_contact",
        "portal.approve_golive",
        "portal.export_customer",
        "portal.offboard_customer",
        "portal.view_auditentry",
        "portal.view_invitation",
        "portal.add_invitation",
        "portal.change_invitation",
        "integrations.view_connection",
        "integrations.change_connection",
        "integrations.view_cliententity",
        "integrations.view_schedule",
        "integrations.change_schedule",
        "integrations.override_interval",
        "integrations.pause_connection",
        "integrations.remove_connection",
        "integrations.view_invoice",
        "integrations.retry_invoice",
        "integrations.view_run",
        "integrations.view_issue",
        "integrations.change_issue",
    ],
    SUPPORT: [
        "portal.view_customer",
        "portal.view_contact",
        "portal.view_invitation",
        "portal.view_auditentry",
        "integrations.view_connection",
        "integrations.change_connection",
        "integrations.view_cliententity",
        "integrations.view_schedule",
        "integrations.change_schedule",
        "integrations.override_interval",
        "integrations.pause_connection",
        "integrations.reverify_connection",
        "integrations.resync_connection",
        "integrations.view_invoice",
        "integrations.retry_invoice",
        "integrations.view_run",
        "integrations.release_run",
        "integrations.view_issue",
        "integrations.change_issue",
    ],
}


def sync_group_permissions(sender=None, apps=None, using="default", **kwargs):
    """Create the groups and give them exactly their permissions that exist so far."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    for group_name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = (
                Permission.objects.using(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if found:
                wanted.append(found)
        group.permissions.add(*wanted)
