"""The e-mail a user gets when their second factors were reset for them, in English and
Norwegian (staff have no language of their own in the portal)."""

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from portal.emails import absolute


def factors_reset(*, user, by_name: str) -> int:
    if not user.email:
        return 0
    context = {"user": user, "by": by_name, "link": absolute(reverse("signin_security"))}
    membership = getattr(user, "membership", None)
    languages = [membership.language] if membership is not None else ["en", "nb"]
    subjects, bodies = [], []
    for language in languages:
        with translation.override(language):
            subjects.append(
                " ".join(render_to_string("emails/factors_reset_subject.txt", context).split())
            )
            bodies.append(render_to_string("emails/factors_reset_body.txt", context).strip())
    return send_mail(
        " / ".join(subjects), "\n\n————————————————\n\n".join(bodies) + "\n", None, [user.email]
    )
