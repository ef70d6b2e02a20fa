from django.test import Client

from tests.portal.conftest import token_form


def _login(client, username, password="wrong-password"):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_it_throttles_failed_logins(customer_user):
    client = Client()
    for _ in range(10):
        assert _login(client, customer_user.username).status_code == 200
    response = _login(client, customer_user.username, "correct-horse-battery-9")
    assert response.status_code == 429
    assert "too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_throttles_per_address_across_usernames(customer_user):
    client = Client()
    for i in range(10):
        _login(client, f"guess{i}@example.com")
    assert _login(client, customer_user.username, "correct-horse-battery-9").status_code == 429


def test_a_good_login_works_below_the_limit(customer_user):
    client = Client()
    for _ in range(3):
        _login(client, customer_user.username)
    response = _login(client, customer_user.username, "correct-horse-battery-9")
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_limits_token_checks_per_customer(customer_client, sandbox):
    for _ in range(5):
        response = customer_client.post("/xledger/token/", token_form(sandbox, "no_suppliers"))
        assert response.status_code == 200
    before = sandbox.request_count
    response = customer_client.post("/xledger/token/", token_form(sandbox, "full"))
    assert response.status_code == 429
    assert "Too many checks" in response.content.decode()
    assert sandbox.request_count == before  # Xledger was not asked
