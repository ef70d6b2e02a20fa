"""Reading a GraphQL request body: JSON, or multipart in the dialect's form.

``multipart="spec"`` (the graphql-multipart-request spec): an ``operations`` part (the JSON
body), a ``map`` part saying which variable each file fills
(``{"0": ["variables.inputs.0.node.invoiceFile"]}``), and one part per file. Files are also
kept by part name, so a mutation may simply name the file (by its filename) instead.

``multipart="xledger"`` (Xledger's own form [seen]): the file parts first, then the JSON part
(``Content-Type: application/json``, any name, possibly with a filename). The mutation names a
file by its filename; a file part after the JSON part is lost, and ``map`` is ignored.
"""

from email.parser import BytesParser
from email.policy import HTTP

import orjson

from .imports import Upload


class BadRequest(Exception):
    pass


def read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    return stream.read(length) if length > 0 else b""


def parse_graphql_request(
    content_type: str, body: bytes, multipart: str = "spec"
) -> tuple[dict, dict[str, Upload]]:
    """``(payload, uploads)``; payload holds query, variables and operationName."""
    if content_type.lower().startswith("multipart/form-data"):
        if multipart == "xledger":
            return _parse_xledger_multipart(content_type, body)
        return _parse_multipart(content_type, body)
    try:
        payload = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise BadRequest("The request body must be a JSON object.")
    return payload, {}


def _parts(content_type: str, body: bytes):
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise BadRequest("Malformed multipart body.")
    return list(message.iter_parts())


def _parse_xledger_multipart(content_type: str, body: bytes):
    uploads: dict[str, Upload] = {}
    for index, part in enumerate(_parts(content_type, body)):
        name = part.get_param("name", header="content-disposition") or f"part{index}"
        if name == "map":
            continue  # the spec's map means nothing to this form
        data = part.get_payload(decode=True) or b""
        if part.get_content_type() == "application/json":
            try:
                payload = orjson.loads(data)
            except orjson.JSONDecodeError:
                raise BadRequest("The JSON part is not valid JSON.") from None
            if not isinstance(payload, dict):
                raise BadRequest("The JSON part must be a JSON object.")
            return payload, uploads  # parts after the JSON are never read
        filename = part.get_filename()
        if filename is not None:
            uploads[name] = Upload(filename, part.get_content_type(), data)
    raise BadRequest("A multipart request needs a part with Content-Type application/json.")


def _parse_multipart(content_type: str, body: bytes):
    fields: dict[str, bytes] = {}
    uploads: dict[str, Upload] = {}
    for part in _parts(content_type, body):
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None and name not in ("operations", "map"):
            uploads[name] = Upload(filename, part.get_content_type(), data)
        else:
            fields[name] = data
    if "operations" not in fields:
        raise BadRequest("A multipart request needs an 'operations' part.")
    try:
        payload = orjson.loads(fields["operations"])
        mapping = orjson.loads(fields.get("map", b"{}"))
    except orjson.JSONDecodeError:
        raise BadRequest("The 'operations' or 'map' part is not valid JSON.") from None
    if not isinstance(payload, dict) or not isinstance(mapping, dict):
        raise BadRequest("The 'operations' and 'map' parts must be JSON objects.")
    for part_name, paths in mapping.items():
        if part_name not in uploads:
            raise BadRequest(f"The map names a file part {part_name!r} that was not sent.")
        for path in paths:
            _put(payload, path, uploads[part_name])
    return payload, uploads


def _put(payload: dict, path: str, value) -> None:
    """Place ``value`` at a dotted path such as ``variables.inputs.0.node.invoiceFile``."""
    *parents, last = path.split(".")
    target = payload
    try:
        for step in parents:
            target = target[int(step)] if isinstance(target, list) else target[step]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    except (KeyError, IndexError, ValueError, TypeError):
        raise BadRequest(f"The map path {path!r} does not exist in the operations.") from None
