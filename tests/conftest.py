import pytest
from django.contrib.auth.models import Group, User

from portal.roles import PROJECT_MANAGERS, SUPPORT


@pytest.fixture
def pm_user(db):
    user = User.objects.create_user("pm", "pm@semine.example", "pm-password-123", is_staff=True)
    user.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    return user


@pytest.fixture
def support_user(db):
    user = User.objects.create_user(
        "support", "support@semine.example", "support-password-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=SUPPORT))
    return user


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@semine.example", "root-password-123")
