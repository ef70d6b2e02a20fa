from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from portal import services
from portal.forms import AcceptInvitationForm
from portal.invitations import Invitation


@never_cache
@sensitive_post_parameters("password1", "password2")
def accept(request, token):
    """The link from the invitation e-mail: choose a password, get an account, land at home.

    Unknown, used, expired and revoked links answer 410 Gone with a page that says which, and
    never log anybody in."""
    invitation = Invitation.find(token)
    state = invitation.state() if invitation else "unknown"
    if state != Invitation.State.PENDING:
        return render(request, "portal/invitation_invalid.html", {"state": state}, status=410)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                invitation=invitation,
                password=form.cleaned_data["password1"],
                language=translation.get_language(),
            )
        except services.AccountOfAnotherCustomer:
            error = "other_customer"
        except services.OnboardingError:
            error = "account_exists"
        else:
            login(request, user, backend="portal.authentication.EmailAddressBackend")
            return redirect("home")
    # The page loads nothing from elsewhere and links nowhere else, and the site-wide
    # Referrer-Policy is same-origin, so the token in this URL is never sent to another site.
    # (Not "no-referrer": browsers then send `Origin: null` and CSRF rightly refuses the POST.)
    return render(
        request,
        "portal/invitation_accept.html",
        {"form": form, "invitation": invitation, "error": error},
    )
