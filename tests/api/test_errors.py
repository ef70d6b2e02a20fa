"""Every error the API gives is JSON with a 4xx status, whatever router it comes from."""

from api import api

BAD_BODIES = [b"\x00", b"{", b'{"a": ', "ø".encode("latin-1")]


def test_it_answers_a_body_that_is_not_json_with_a_field_error(api_client_for_post):
    client, url = api_client_for_post
    for body in BAD_BODIES:
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 422, body
        assert response.json() == {
            "detail": [{"loc": ["body"], "msg": "Not valid JSON.", "type": "json_invalid"}]
        }


def test_it_answers_unknown_api_urls_with_json(api):
    assert api.get("/api/").json()["openapi"] == "/api/openapi.json"
    for path in ["/api/nothing/here", "/api/customers/1/unknown", "/api/customers/x/y/z"]:
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}


def test_it_documents_the_error_answers_of_every_operation(client, db):
    spec = client.get("/api/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert {"401", "404", "422"} <= set(operation["responses"]), (method, path)
    assert api.urls_namespace == "api"
