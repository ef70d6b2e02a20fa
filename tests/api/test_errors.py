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


def test_it_refuses_a_body_that_is_not_declared_json(api_client_for_post):
    client, url = api_client_for_post
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "text/json", ""]:
        response = client.post(url, data=b"{}", content_type=content_type)
        assert response.status_code == 415, content_type
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "Send the body as application/json."}
    for content_type in ["application/json; charset=utf-8", "application/vnd.semine+json"]:
        response = client.post(url, data=b"{}", content_type=content_type)
        assert response.status_code == 422, content_type  # read as JSON: fields are missing
        assert {e["loc"][-1] for e in response.json()["detail"]} >= {"externalId", "lines"}


def test_it_answers_a_deeply_nested_body_with_a_field_error(api_client_for_post):
    client, url = api_client_for_post
    for depth in [3_000, 33, 100_000]:
        for body in ["[" * depth + "]" * depth, '{"a": ' * depth + "1" + "}" * depth]:
            response = client.post(url, data=body, content_type="application/json")
            assert response.status_code == 422, (depth, body[:10])
            assert response.json() == {
                "detail": [
                    {
                        "loc": ["body"],
                        "msg": "Nested more than 32 levels deep.",
                        "type": "json_too_deep",
                    }
                ]
            }
    # 32 levels are read (and then refused for what they hold, not for their depth).
    body = '{"lines": ' + "[" * 31 + "]" * 31 + "}"
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 422
    assert all(e["type"] != "json_too_deep" for e in response.json()["detail"])
