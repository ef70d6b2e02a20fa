from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from portal import selectors, services
from portal.token_links import TokenLink
from portal.views.xledger import replace_token


@never_cache
@sensitive_post_parameters("token")
@csrf_protect
def replace(request, raw):
    """The link from a replace-token e-mail: the live token page of one connection, without
    logging in (the IT partner may have no account).

    An unknown link answers 404; a used, expired or revoked one, or one whose connection was
    removed or is not live, 410 Gone with a page that says which. The new token is checked with
    Xledger before it replaces the working one (throttled per customer, like every check); a
    successful replacement uses the link up. The raw link is never logged
    (`portal.log_redaction`) and the page, like the invitation page, loads nothing from
    elsewhere (the site-wide Referrer-Policy is same-origin: "no-referrer" would make the
    browser send `Origin: null`, which CSRF rightly refuses)."""
    link = TokenLink.find(raw)
    if link is None:
        return _refused(request, None, "unknown", status=404)
    state = link.state()
    if state == TokenLink.State.PENDING and not link.connection.is_live:
        state = "not_live"
    if state != TokenLink.State.PENDING:
        return _refused(request, link, state)
    connection = link.connection
    own = selectors.customer_for_user(request.user)
    by = request.user if own is not None and own.pk == connection.customer_id else None
    try:
        return replace_token(request, connection, by=by, action=request.path, link=link)
    except services.OnboardingError:  # removed or taken off line while the page was open
        return _refused(request, link, "not_live")


def _refused(request, link, state, status=410):
    return render(
        request, "portal/token_link_invalid.html", {"state": state, "link": link}, status=status
    )
