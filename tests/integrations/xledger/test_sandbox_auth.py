import httpx
import orjson

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for, gql

QUERY = {"query": "{ currencies { edges { node { code } } } }"}


def _post(sb, headers):
    with httpx.Client(transport=sb.transport()) as client:
        response = client.post(sb.url, json=QUERY, headers=headers)
    return response.status_code, orjson.loads(response.content)


def test_it_answers_a_missing_header_with_bad_format():
    status, body = _post(Sandbox(dialect="ours", suppliers=1), {})
    assert status == 401
    assert body["errors"][0]["message"].startswith("Bad format for API Token")
    assert body["errors"][0]["code"] == "UNAUTHENTICATED"


def test_it_answers_a_bearer_header_with_bad_format():
    sb = Sandbox(dialect="ours", suppliers=1)
    status, body = _post(sb, {"Authorization": f"Bearer {sb.demo_tokens['full']}"})
    assert status == 401
    assert body["errors"][0]["message"].startswith("Bad format for API Token")


def test_it_answers_an_unknown_token_with_invalid_api_token():
    status, body = _post(
        Sandbox(dialect="ours", suppliers=1), {"Authorization": "token " + "A" * 36}
    )
    assert status == 401
    assert body == {"errors": [{"message": "Invalid API token", "code": "UNAUTHENTICATED"}]}


def test_it_answers_a_revoked_token_with_invalid_api_token():
    sb = Sandbox(dialect="ours", suppliers=1)
    status, body = _post(sb, {"Authorization": f"token {sb.demo_tokens['revoked']}"})
    assert (status, body["errors"][0]["message"]) == (401, "Invalid API token")
    token = sb.add_token()
    assert gql(client_for(sb, token=token), QUERY["query"])[0] == 200
    sb.revoke_token(token)
    assert gql(client_for(sb, token=token), QUERY["query"])[0] == 401


def test_it_makes_36_character_base64url_tokens():
    sb = Sandbox(dialect="ours", suppliers=1)
    for token in sb.demo_tokens.values():
        assert len(token) == 36
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_it_accepts_a_token_chosen_by_the_caller():
    sb = Sandbox(dialect="ours", suppliers=1)
    token = sb.add_token(token="my-own_token-0123456789abcdefghijklm")
    assert gql(client_for(sb, token=token), QUERY["query"])[0] == 200
