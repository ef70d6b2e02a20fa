import hashlib
from datetime import timedelta

from django.utils import timezone

from integrations.models import ApiKey, Supplier
from tests.api.conftest import ApiClient, add_rows, make_live_connection


def test_it_stores_only_a_hash(db):
    api_key, plaintext = ApiKey.issue(name="SEMINE")
    assert len(plaintext) >= 40
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert plaintext not in str(row)
    assert row["key_hash"] == hashlib.sha256(plaintext.encode()).hexdigest()
    assert row["prefix"] == plaintext[:8]


def test_it_makes_a_different_key_each_time(db):
    keys = {ApiKey.issue(name=f"k{n}")[1] for n in range(5)}
    assert len(keys) == 5


def test_it_accepts_bearer_and_x_api_key(live_connection, api_key):
    url = f"/api/customers/{live_connection.customer_id}/suppliers"
    assert ApiClient(api_key[1]).get(url).status_code == 200
    assert ApiClient().get(url, HTTP_X_API_KEY=api_key[1]).status_code == 200


def test_it_refuses_missing_wrong_and_revoked_keys(live_connection, api_key):
    url = f"/api/customers/{live_connection.customer_id}/suppliers"
    api_key_obj, plaintext = api_key
    for client, extra in [
        (ApiClient(), {}),
        (ApiClient(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")), {}),
        (ApiClient(plaintext[:8]), {}),
        (ApiClient(), {"HTTP_AUTHORIZATION": f"Token {plaintext}"}),
        (ApiClient(), {"HTTP_X_API_KEY": "nonsense"}),
    ]:
        response = client.get(url, **extra)
        assert response.status_code == 401, extra
        assert response.json() == {"detail": "Unauthorized"}
        assert response["WWW-Authenticate"].startswith("Bearer")

    api_key_obj.revoke()
    assert ApiClient(plaintext).get(url).status_code == 401


def test_it_hides_other_customers_from_a_restricted_key(live_connection):
    other = make_live_connection("Other AS")
    add_rows(Supplier, other, 2)
    _, plaintext = ApiKey.issue(name="Only Fjordbåt", customer=live_connection.customer)
    client = ApiClient(plaintext)

    assert client.get(f"/api/customers/{live_connection.customer_id}/suppliers").status_code == 200
    for url in [
        f"/api/customers/{other.customer_id}/suppliers",
        f"/api/customers/{other.customer_id}",
    ]:
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}
    listed = client.get("/api/customers").json()["items"]
    assert [c["id"] for c in listed] == [live_connection.customer_id]


def test_it_records_last_use_at_most_once_a_minute(live_connection, api_key, api):
    api_key_obj, _ = api_key
    url = f"/api/customers/{live_connection.customer_id}/currencies"
    api.get(url)
    first = ApiKey.objects.get(pk=api_key_obj.pk).last_used_at
    assert first is not None
    api.get(url)
    assert ApiKey.objects.get(pk=api_key_obj.pk).last_used_at == first

    ApiKey.objects.filter(pk=api_key_obj.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get(url)
    assert ApiKey.objects.get(pk=api_key_obj.pk).last_used_at > first - timedelta(seconds=1)
    assert ApiKey.objects.get(pk=api_key_obj.pk).last_used_at <= timezone.now()


def test_it_refuses_malformed_keys_without_a_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        for junk in [
            "",
            "short",
            "x" * 500,
            "abc\x00defghijklmnopqrstuvwxyz0123456789ABCDEF",
            "é" * 43,
        ]:
            assert ApiKey.authenticate(junk) is None
