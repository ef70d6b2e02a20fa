from django.contrib.auth.models import Group, User


def make_staff(email: str, password: str, group: str) -> User:
    """A staff member with a password and one role, and no second factor yet."""
    user = User.objects.create_user(email, email, password, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user
