"""The customer invites their IT partner to the token step, so that it need not wait for SEMINE to.

The partner's account reaches the token instructions, the token pages and the scope pages only
(`portal.views.access`); the project manager is e-mailed and the invitation is audited and listed
on the customer's admin page (`portal.services.it_partner_invite`)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from portal import selectors, services
from portal.forms import ItPartnerInvitationForm
from portal.views.access import customer_required


def invitation_form(data=None) -> ItPartnerInvitationForm:
    """The form, with the e-mail's language preset to the page's (the home page shows it too)."""
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return ItPartnerInvitationForm(
        data, languages=settings.LANGUAGES, initial={"language": language}
    )


@never_cache
@customer_required
def invite(request):
    form = invitation_form(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                invitation = services.it_partner_invite(
                    customer=request.customer,
                    email=form.cleaned_data["email"],
                    language=form.cleaned_data["language"],
                    by=request.user,
                )
            except services.InvitationsThrottled:
                limit, _window = settings.THROTTLE_IT_PARTNER_INVITATIONS
                form.add_error(
                    None,
                    _(
                        "You have sent %(limit)d invitations today, as many as a day allows. "
                        "Try again tomorrow, or ask your SEMINE project manager."
                    )
                    % {"limit": limit},
                )
                status = 429
            else:
                messages.success(
                    request,
                    _(
                        "An invitation was sent to %(email)s. SEMINE's project manager has "
                        "been told."
                    )
                    % {"email": invitation.email},
                )
                return redirect("home")
    return render(
        request,
        "portal/it_partner_invite.html",
        {
            "customer": request.customer,
            "form": form,
            "errors": form.error_summary() if form.is_bound else [],
            "invitations": selectors.it_partner_invitations(request.customer),
        },
        status=status,
    )
