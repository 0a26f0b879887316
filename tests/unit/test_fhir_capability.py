"""The CapabilityStatement declares exactly what the FHIR routes serve: each route's interaction is
declared and each declared interaction has its route; each search's parameters are the ones it takes."""

from __future__ import annotations

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from app import app  # the whole API as make run serves it (a module's function app is built once, in Lambda)
from chalicelib.fhir.capability import PARAMETERS, RESULT_PARAMETERS, accepted_parameters, capability_statement
from chalicelib.fhir.routes import BASE


def served() -> set[tuple[str, str]]:
    """(resource type or "system", interaction) of every FHIR route."""
    found: set[tuple[str, str]] = set()
    for path, methods in app.routes.items():
        if not path.startswith(BASE):
            continue
        rest = path.removeprefix(BASE).strip("/").split("/")
        for method in set(methods) - {"OPTIONS"}:  # CORS preflights
            if rest == [""]:
                found |= {("system", "transaction"), ("system", "batch")} if method == "POST" else set()
            elif rest == ["metadata"]:
                continue  # the CapabilityStatement itself
            elif len(rest) == 1:
                found.add((rest[0], {"GET": "search-type", "POST": "create", "PUT": "update"}[method]))
            elif rest[1] == "_search":
                found.add((rest[0], "search-type"))
            else:
                assert method == "GET" and rest[1].startswith("{"), path
                found.add((rest[0], "read"))
    return found


def declared(statement: dict) -> set[tuple[str, str]]:
    (rest,) = statement["rest"]
    system = {("system", interaction["code"]) for interaction in rest["interaction"]}
    return system | {
        (resource["type"], interaction["code"])
        for resource in rest["resource"]
        for interaction in resource["interaction"]
    }


def test_the_statement_is_valid_fhir_and_declares_exactly_the_routes():
    statement = capability_statement()
    CapabilityStatement.model_validate(statement)
    assert declared(statement) == served()


def test_each_search_declares_the_parameters_it_takes():
    statement = capability_statement()
    for resource in statement["rest"][0]["resource"]:
        names = {parameter["name"] for parameter in resource.get("searchParam", [])}
        takes = set(accepted_parameters().get(resource["type"], ())) - set(RESULT_PARAMETERS)
        assert names == takes == set(PARAMETERS.get(resource["type"], {})), resource["type"]


def test_the_formats_are_the_ones_taken():
    assert capability_statement()["format"] == ["application/fhir+json", "application/json"]
