import re

from django.core import mail
from django.test import Client


def test_a_customer_can_choose_a_new_password(customer_user):
    client = Client()
    response = client.post("/accounts/password-reset/", {"email": customer_user.email})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [customer_user.email]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    assert "set-password" in form_url  # the token left the URL
    response = client.post(
        form_url, {"new_password1": "New-Fjord-2027!", "new_password2": "New-Fjord-2027!"}
    )
    assert response.status_code == 302
    customer_user.refresh_from_db()
    assert customer_user.check_password("New-Fjord-2027!")
    assert client.get(link).context["validlink"] is False  # used


def test_an_unknown_address_gets_the_same_answer_and_no_mail(db):
    response = Client().post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_reset_requests_are_throttled(customer_user):
    client = Client()
    for _ in range(5):
        client.post("/accounts/password-reset/", {"email": customer_user.email})
    response = client.post("/accounts/password-reset/", {"email": customer_user.email})
    assert response.status_code == 429
    assert len(mail.outbox) == 5


def test_the_login_page_links_to_it(db):
    assert 'href="/accounts/password-reset/"' in Client().get("/accounts/login/").content.decode()
