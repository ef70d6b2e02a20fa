"""The token-check throttle. Login throttling: tests/portal/test_login_throttle.py."""

from tests.portal.conftest import token_form


def test_it_limits_token_checks_per_customer(customer_client, sandbox):
    for _ in range(5):
        response = customer_client.post("/xledger/token/", token_form(sandbox, "no_suppliers"))
        assert response.status_code == 200
    before = sandbox.request_count
    response = customer_client.post("/xledger/token/", token_form(sandbox, "full"))
    assert response.status_code == 429
    assert "Too many checks" in response.content.decode()
    assert sandbox.request_count == before  # Xledger was not asked
