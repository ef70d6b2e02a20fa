"""How a login finds its account: by the e-mail address in any case.

Usernames are e-mail addresses, lowercased when the account is made
(`portal.services.invitation_accept`), and the login page says "your user name is your e-mail
address": `Anne.X@example.no` is the same person as `anne.x@example.no`. Django's ModelBackend
matches the username exactly; this one matches it case-blind.

It comes after axes' backend in AUTHENTICATION_BACKENDS, so a locked-out login is refused before
any password is checked, and failures are counted under the lowercased address
(`portal.throttle.login_username`): typing another case neither escapes nor splits the count.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailAddressBackend(ModelBackend):
    """ModelBackend, with the username looked up case-blind. Should two accounts differ only in
    case (made by hand in the admin), only the exact spelling logs in: guessing which one a
    person meant would let one log in as the other."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        field = User.USERNAME_FIELD
        if len(str(username)) > User._meta.get_field(field).max_length:
            # No account has such a name, and SQLite refuses a LIKE pattern that long (a 500).
            User().set_password(password)
            return None
        matches = list(User._default_manager.filter(**{f"{field}__iexact": username})[:2])
        if len(matches) > 1:
            matches = [user for user in matches if getattr(user, field) == username]
        if len(matches) != 1:
            # As ModelBackend: hash anyway, so the time taken does not tell whether the account
            # exists.
            User().set_password(password)
            return None
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            if user.is_staff and not user.is_superuser and not settings.STAFF_PASSWORD_LOGIN:
                return None  # staff sign in through single sign-on only (signin.sso)
            return user
        return None
