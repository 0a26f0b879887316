from __future__ import annotations

from pydantic import ConfigDict

from chalicelib.core.models import Model


class FhirBundle(Model):
    """A FHIR R4 Bundle of type collection (http://hl7.org/fhir/R4/bundle.html)."""

    model_config = ConfigDict(extra="allow")

    resourceType: str
    type: str
    timestamp: str
    entry: list[dict]
