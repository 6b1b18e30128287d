"""The OpenAPI document says what the server answers and accepts (review F19, issue 12 item 4).

Fast: reads ``/api/v1/openapi.json`` only. Every operation declares each error status it can answer with
the one error schema; every parameter says which values are accepted (a pattern, an enum, bounds), so
that a request valid by the schema is one the server takes and schemathesis can hold us to it.
"""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return Client().get("/api/v1/openapi.json").json()


def operations(document: dict):
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", path, operation


def test_every_operation_declares_its_errors_with_the_error_schema(document):
    missing = {}
    for name, path, operation in operations(document):
        responses = {int(code): answer for code, answer in operation["responses"].items()}
        errors = {code for code in responses if code >= 400}
        needed = {400}
        if operation.get("parameters") or operation.get("requestBody"):
            needed.add(422)
        if operation.get("security"):
            needed.add(401)
        if any(scheme in ("BearerTokenAuth", "CsrfSessionAuth") for s in operation.get("security", []) for scheme in s):
            needed.add(403)  # role, scope, CSRF, expired password
        if operation.get("requestBody"):
            needed.add(413)
        if "{" in path:
            needed.add(404)
        if path == "/api/v1/procedures/{code}":  # public; a malformed code is 400 in the catalogue's words
            needed = {400, 404}
        if needed - errors:
            missing[name] = sorted(needed - errors)
        for code in errors:
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (name, code, schema)
        assert all(code < 500 for code in responses), name
    assert missing == {}


def test_the_error_schema_is_detail_and_field_errors(document):
    schemas = document["components"]["schemas"]
    error = schemas["ErrorOut"]
    assert error["required"] == ["detail", "errors"]
    assert error["properties"]["detail"]["type"] == "string"
    assert error["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert set(schemas["FieldError"]["properties"]) == {"field", "message"}


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _bounded(document: dict, schema: dict) -> bool:
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        return all(_bounded(document, choice) for choice in schema["anyOf"])
    kind = schema.get("type")
    if "enum" in schema or kind == "boolean":
        return True
    if kind == "string":
        return "pattern" in schema
    if kind == "integer":
        return "minimum" in schema and "maximum" in schema
    if kind == "array":
        return _bounded(document, schema["items"])
    return False


def test_every_parameter_says_which_values_are_accepted(document):
    loose = []
    for name, _path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            if not _bounded(document, schema):
                loose.append(f"{name} {parameter['in']} {parameter['name']}: {schema}")
            if {"type": "null"} in schema.get("anyOf", []):
                loose.append(f"{name} {parameter['name']}: a parameter is absent, never null")
    assert loose == []


def test_pages_are_bounded(document):
    for name in ("/api/v1/dossiers", "/api/v1/procedures", "/api/v1/inbox"):
        parameters = {p["name"]: p["schema"] for p in document["paths"][name]["get"]["parameters"]}
        assert parameters["page"]["minimum"] == 1 and parameters["page"]["maximum"] == 10_000, name
        assert parameters["page_size"]["minimum"] == 1 and parameters["page_size"]["maximum"] == 100, name


def test_the_national_endpoint_declares_its_token_and_its_body(document):
    operation = document["paths"]["/api/v1/national/dossiers"]["post"]
    assert operation["security"] == [{"NationalInboundToken": []}]
    assert document["components"]["securitySchemes"]["NationalInboundToken"] == {"type": "http", "scheme": "bearer"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["MaHoSo", "MaTTHC"]


@pytest.mark.parametrize(
    ("name", "accepted", "refused"),
    [
        (
            "received_from",
            ["2026-12-31", "2024-02-29", "31/12/2026", "1900-01-01", "2199-12-31"],
            ["2026-02-29", "2026-02-30", "9999-12-31", "0001-01-01", "2026-1-1", "٢٠٢٦-01-01"],
        ),
        ("procedure", ["1.001193", "1.001193.000.00.00.H62", ""], ["0.001193", "1.00119", "1.001193\x00", "khai-sinh"]),
        ("q", ["Nguyễn Văn An", ""], ["a\x00b", "a\nb", "\x1b"]),
    ],
)
def test_dossier_search_patterns(document, name, accepted, refused):
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/dossiers"]["get"]["parameters"]}
    pattern = re.compile(parameters[name]["pattern"])
    assert [value for value in accepted if not pattern.search(value)] == []
    assert [value for value in refused if pattern.search(value)] == []
