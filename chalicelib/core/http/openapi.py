"""The OpenAPI 3.1 document, generated from the declared routes and their pydantic models.

Nothing here is written by hand per endpoint: a module that declares a route with ``Router.route``
appears in the document with its access rule, parameters, body and response schemas.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.core.http.api import OPERATIONS, Operation, path_params

REF = "#/components/schemas/{model}"
ERROR_STATUSES = {
    "400": "Invalid input: the message and details say what to fix.",
    "401": "Missing, malformed, expired or badly signed token.",
    "403": "Authenticated but not allowed.",
    "404": "No such resource, or not visible to the caller.",
    "409": "The current state does not allow this.",
    "413": "Content over the size limit.",
    "415": "Content type not allowed or not matching the bytes.",
    "429": "Too many attempts.",
}


class ErrorBody(BaseModel):
    class Inner(BaseModel):
        code: str
        message: str
        details: list[dict[str, Any]] | None = None

    error: Inner


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for op in OPERATIONS:
        if op.body:
            found.append((op.body, "validation"))
        if isinstance(op.response, type) and issubclass(op.response, BaseModel):
            found.append((op.response, "serialization"))
    return list(dict.fromkeys(found))


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF)
    return [
        {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", []),
            "schema": {k: v for k, v in prop.items() if k != "description"},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(op: Operation, refs: dict[type[BaseModel], Any]) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in path_params(op.path)
    ] + _query_parameters(op.query)
    responses: dict[str, Any] = {}
    if op.raw_content_type:
        types = op.raw_content_type if isinstance(op.raw_content_type, tuple) else (op.raw_content_type,)
        responses[str(op.status)] = {"description": "Content", "content": {t: {"schema": {}} for t in types}}
    elif op.response is None:
        responses[str(op.status)] = {"description": "Done"}
    else:
        responses[str(op.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": refs[op.response]}},
        }
    error_ref = {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}
    for status, description in ERROR_STATUSES.items():
        if status == "401" and op.access.public:
            continue
        responses[status] = {"description": description, "content": error_ref}
    doc: dict[str, Any] = {
        "operationId": f"{op.method.lower()}_{op.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "summary": op.summary,
        "tags": [op.tag],
        "description": f"Access: {op.access.description}.",
        "parameters": parameters,
        "responses": responses,
        "security": [] if op.access.public else [{"bearer": []}],
    }
    if op.body:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[op.body]}}}
    if op.openapi:
        doc.update(op.openapi())
    return doc


def document() -> dict[str, Any]:
    models = _models()
    keys, definitions = models_json_schema(models, ref_template=REF)
    refs = {model: keys[(model, mode)] for model, mode in models}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mon espace santé API", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def schema_of(annotation: Any) -> dict[str, Any]:
    return TypeAdapter(annotation).json_schema(ref_template=REF)
