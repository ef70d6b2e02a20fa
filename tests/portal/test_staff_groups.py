from django.contrib.auth.models import Group


def test_the_migration_creates_both_groups_with_their_permissions(db):
    pm = Group.objects.get(name="Project managers")
    support = Group.objects.get(name="Support")
    pm_perms = set(pm.permissions.values_list("codename", flat=True))
    support_perms = set(support.permissions.values_list("codename", flat=True))
    assert {"approve_golive", "override_interval", "view_customer"} <= pm_perms
    assert {"resync_connection", "pause_connection", "reverify_connection"} <= support_perms
    assert "approve_golive" not in support_perms
