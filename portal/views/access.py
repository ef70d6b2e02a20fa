"""Who may see a customer page: only a user bound to a customer, and only that customer.

Customer URLs carry no customer id at all: the customer comes from the logged-in user's
membership, so there is nothing to guess. Staff are sent to the admin; anyone else gets 404.

An IT partner the customer invited is a user of that customer too, but reaches only the pages
wrapped in `it_partner_allowed` (the token instructions, the token pages and the scope pages,
listed in `portal.urls`, and the home page, which shows them only those tasks); every other
customer page answers them 403. Refusing is the default: a new page is closed to IT partners
until it is marked.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils import translation

from portal import selectors


def customer_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        customer = selectors.customer_for_user(request.user)
        if customer is None:
            if request.user.is_staff:
                return redirect("admin:index")
            raise Http404("No customer for this user.")
        membership = request.user.membership
        if membership.is_it_partner and not getattr(request, "it_partner_allowed", False):
            raise PermissionDenied("An IT partner reaches the token step only.")
        request.customer = customer
        request.it_partner = membership.is_it_partner
        # E-mails to this user are written in the language they last read the portal in.
        membership.remember_language(translation.get_language())
        return view(request, *args, **kwargs)

    return wrapper


def it_partner_allowed(view):
    """Open a customer page to the customer's IT partner as well (see the module docstring).
    Wraps the view from outside, in `portal.urls`, so the pages need not change."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.it_partner_allowed = True
        return view(request, *args, **kwargs)

    wrapper.it_partner_allowed = True
    return wrapper
