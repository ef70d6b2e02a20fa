"""Who may see a customer page: only a user bound to a customer, and only that customer.

Customer URLs carry no customer id at all: the customer comes from the logged-in user's
membership, so there is nothing to guess. Staff are sent to the admin; anyone else gets 404.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
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
        request.customer = customer
        # E-mails to this user are written in the language they last read the portal in.
        request.user.membership.remember_language(translation.get_language())
        return view(request, *args, **kwargs)

    return wrapper
