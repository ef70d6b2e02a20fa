"""The test OpenID Connect provider, signed in to over HTTP as a relying party would."""

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from tests.oidc_provider.harness import Provider, running_provider

pytestmark = pytest.mark.e2e

ANNE = "anne@semine.example"
PASSWORD = "correct horse battery staple"
CALLBACK = "http://testserver/oidc/callback/"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with running_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture(scope="module")
def discovery(provider):
    return get(provider.discovery_url).json()


def get(url, **kwargs) -> httpx.Response:
    response = httpx.get(url, trust_env=False, **kwargs)
    response.raise_for_status()
    return response


def authorize_url(provider: Provider, discovery: dict, state: str, nonce: str) -> str:
    """Where a relying party sends the browser: the provider's authorization endpoint."""
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
    }
    return f"{discovery['authorization_endpoint']}?{urlencode(query)}"


def sign_in(provider: Provider, discovery: dict, *, client_auth: str) -> dict:
    """The authorization-code flow; returns the token response plus the nonce that was sent."""
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    callback = provider.sign_in(authorize_url(provider, discovery, state, nonce), ANNE, PASSWORD)

    assert callback.startswith(CALLBACK + "?")
    params = parse_qs(urlsplit(callback).query)
    assert params["state"] == [state]
    form = {"grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": CALLBACK}
    if client_auth == "post":
        form |= {"client_id": provider.client_id, "client_secret": provider.client_secret}
        auth = None
    else:
        auth = (provider.client_id, provider.client_secret)
    response = httpx.post(discovery["token_endpoint"], data=form, auth=auth, trust_env=False)
    assert response.status_code == 200, response.text
    return {**response.json(), "nonce": nonce}


def id_token_claims(provider: Provider, discovery: dict, tokens: dict) -> dict:
    keys = jwt.PyJWKSet.from_dict(get(discovery["jwks_uri"]).json())
    kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    key = next(key for key in keys.keys if key.key_id == kid)
    claims = jwt.decode(
        tokens["id_token"],
        key.key,
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=provider.issuer,
    )
    assert claims["nonce"] == tokens["nonce"]
    return claims


def userinfo(discovery: dict, tokens: dict) -> dict:
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    return get(discovery["userinfo_endpoint"], headers=bearer).json()


def test_discovery_names_the_issuer_and_its_endpoints(provider, discovery):
    assert discovery["issuer"] == provider.issuer
    assert discovery["authorization_endpoint"].startswith(provider.issuer + "/")
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert {"client_secret_post", "client_secret_basic"} <= set(
        discovery["token_endpoint_auth_methods_supported"]
    )


@pytest.mark.parametrize("client_auth", ["post", "basic"])
def test_claims_reach_the_id_token_and_userinfo(provider, discovery, client_auth):
    provider.set_user(ANNE, PASSWORD, groups=["semine-staff", "support"], amr=["pwd", "mfa"])

    tokens = sign_in(provider, discovery, client_auth=client_auth)

    expected = {
        "email": ANNE,
        "email_verified": True,
        "groups": ["semine-staff", "support"],
        "amr": ["pwd", "mfa"],
    }
    claims = id_token_claims(provider, discovery, tokens)
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == provider.client_id
    assert expected.items() <= claims.items()
    info = userinfo(discovery, tokens)
    assert expected.items() <= info.items()
    assert info["sub"] == claims["sub"]


def test_a_removed_group_is_gone_at_the_next_sign_in(provider, discovery):
    provider.set_user(ANNE, PASSWORD, groups=["semine-staff"], amr=["pwd", "mfa"])
    before = sign_in(provider, discovery, client_auth="post")
    assert id_token_claims(provider, discovery, before)["groups"] == ["semine-staff"]

    provider.set_user(ANNE, PASSWORD, groups=[], email_verified=False)
    after = sign_in(provider, discovery, client_auth="post")

    claims = id_token_claims(provider, discovery, after)
    assert claims["groups"] == []
    assert claims["email_verified"] is False
    assert "amr" not in claims
    info = userinfo(discovery, after)
    assert info["groups"] == []
    assert "amr" not in info


def test_a_wrong_password_fails_loudly(provider, discovery):
    provider.set_user(ANNE, PASSWORD)
    with pytest.raises(AssertionError, match="refused the credentials"):
        provider.sign_in(authorize_url(provider, discovery, "s", "n"), ANNE, "wrong")
