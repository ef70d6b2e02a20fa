"""Helpers for tests that talk to a sandbox in-process: a bound client, a GraphQL call, paging."""

import httpx
import orjson

SUPPLIER_FIELDS = (
    "dbId code description email bankAccount company { companyNumber } ownerDbId "
    "owner { dbId code description } modifiedAt"
)


def client_for(sb, token_name="full", token=None) -> httpx.Client:
    token = token or sb.demo_tokens[token_name]
    return httpx.Client(
        transport=sb.transport(),
        base_url="http://sandbox.local",
        headers={"Authorization": f"token {token}"},
    )


def gql(client, query, variables=None, **kwargs):
    response = client.post("/graphql", json={"query": query, "variables": variables}, **kwargs)
    return response.status_code, orjson.loads(response.content)


def all_pages(client, field, selection, first=100, extra=""):
    """Every node of a list field, paging with ``after: <the last edge's cursor>`` (which
    works in every dialect, also those without ``endCursor``)."""
    nodes, after, requests = [], None, 0
    while True:
        query = (
            f"query($after: String) {{ {field}(first: {first}, after: $after{extra}) "
            f"{{ edges {{ cursor node {{ {selection} }} }} "
            f"pageInfo {{ hasNextPage }} }} }}"
        )
        status, body = gql(client, query, {"after": after})
        requests += 1
        assert status == 200, body
        page = body["data"][field]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, requests
        after = page["edges"][-1]["cursor"]
