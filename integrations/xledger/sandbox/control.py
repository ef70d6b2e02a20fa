"""The sandbox's control surface over HTTP, for tests that run it as a separate process.

It is protected by nothing but the address the server binds to (127.0.0.1 by default):
never expose a sandbox on a public interface. All bodies are JSON.

    GET    /_sandbox/info                        owner/client entity ids, demo tokens, settings,
                                                 the dialect's name and knobs; "owners": every
                                                 owner entity's db_id, name, client_ids, tokens
                                                 (the other keys are the first owner's)
    GET    /_sandbox/records/<kind>              every record, as the API answers them
    POST   /_sandbox/records/<kind>              {field: value, ...}        -> {"dbId": n}
    PATCH  /_sandbox/records/<kind>/<dbId>       {field: value, ...}  (modifiedAt moves to now)
    DELETE /_sandbox/records/<kind>/<dbId>
    POST   /_sandbox/tokens                      {"scopes": [...]|null, "entity_db_id": n|null}
    POST   /_sandbox/tokens/revoke               {"token": "..."}
    POST   /_sandbox/tokens/scopes               {"token": "...", "scopes": [...]}
    POST   /_sandbox/faults                      {"name": ..., "count": n, "probability": p, ...}
    DELETE /_sandbox/faults                      clear every fault
    POST   /_sandbox/burst_limit                 {"enabled": true|false}
    GET    /_sandbox/transaction_sources         ["LEV", "IMP", "SEMINE"] (the first owner's)
    GET    /_sandbox/transaction_sources/<owner> one owner entity's
    POST   /_sandbox/transaction_sources         {"codes": [...], "owner_db_id": n|null}
                                                 (replaces one owner's, or every owner's)
    POST   /_sandbox/clock                       {"now": "<ISO>"|null} or {"advance": seconds}
    GET    /_sandbox/counts                      {"total": n, "by_field": {...}}
    POST   /_sandbox/counts/token                {"token": "..."}            -> {"count": n}
    POST   /_sandbox/counts/reset
    GET    /_sandbox/imports                     stored GL import items (amounts as strings)
"""

from datetime import datetime
from decimal import Decimal

import orjson

from .bodies import read_body

PREFIX = "/_sandbox/"


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError


def _reply(start_response, status: str, body):
    data = orjson.dumps(body, default=_default)
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def handle(sb, environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    parts = environ.get("PATH_INFO", "")[len(PREFIX) :].strip("/").split("/")
    try:
        raw = read_body(environ)
        body = orjson.loads(raw) if raw else {}
        result = _route(sb, method, parts, body)
    except (KeyError, ValueError, TypeError, orjson.JSONDecodeError) as error:
        return _reply(start_response, "400 Bad Request", {"error": str(error)})
    if result is None:
        return _reply(start_response, "404 Not Found", {"error": "no such control endpoint"})
    return _reply(start_response, "200 OK", result)


def _route(sb, method: str, parts: list[str], body: dict):  # noqa: C901 - a flat route table
    match (method, parts):
        case ("GET", ["info"]):
            return {
                "url_path": "/graphql",
                "owner_db_id": sb.owner_db_id,
                "client_entity_ids": sb.client_entity_ids,
                "demo_tokens": sb.demo_tokens,
                "burst_limit": sb.burst_limit,
                "faults": sb.faults.describe(),
                "dialect": {"name": sb.dialect.name, **sb.dialect.knobs()},
                "owners": sb.describe_owners(),
            }
        case ("GET", ["records", kind]):
            return sb.records(kind)
        case ("POST", ["records", kind]):
            return {"dbId": sb.add_record(kind, **body)}
        case ("PATCH" | "PUT" | "POST", ["records", kind, db_id]):
            sb.change_record(kind, int(db_id), **body)
            return {"ok": True}
        case ("DELETE", ["records", kind, db_id]):
            sb.delete_record(kind, int(db_id))
            return {"ok": True}
        case ("POST", ["tokens"]):
            return {"token": sb.add_token(body.get("scopes"), body.get("entity_db_id"))}
        case ("POST", ["tokens", "revoke"]):
            sb.revoke_token(body["token"])
            return {"ok": True}
        case ("POST", ["tokens", "scopes"]):
            sb.set_scopes(body["token"], body["scopes"])
            return {"ok": True}
        case ("POST", ["faults"]):
            params = dict(body)
            sb.set_fault(
                params.pop("name"),
                params.pop("count", None),
                params.pop("probability", None),
                **params,
            )
            return {"ok": True}
        case ("DELETE", ["faults"]):
            sb.clear_faults()
            return {"ok": True}
        case ("POST", ["burst_limit"]):
            sb.burst_limit = bool(body["enabled"])
            return {"ok": True}
        case ("POST", ["clock"]):
            if "advance" in body:
                sb.clock.advance(float(body["advance"]))
            else:
                now = body.get("now")
                sb.set_now(datetime.fromisoformat(now) if now else None)
            return {"now": sb.clock.now().isoformat()}
        case ("GET", ["transaction_sources"]):
            return sb.transaction_sources
        case ("GET", ["transaction_sources", owner]):
            return sb.transaction_sources_of(int(owner))
        case ("POST", ["transaction_sources"]):
            owner = body.get("owner_db_id")
            sb.set_transaction_sources(body["codes"], None if owner is None else int(owner))
            return {"ok": True}
        case ("GET", ["counts"]):
            return {"total": sb.request_count, "by_field": sb.requests_by_field}
        case ("POST", ["counts", "token"]):
            return {"count": sb.requests_by_token(body["token"])}
        case ("POST", ["counts", "reset"]):
            sb.reset_counters()
            return {"ok": True}
        case ("GET", ["imports"]):
            return sb.imports
    return None
