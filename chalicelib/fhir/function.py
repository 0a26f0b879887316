"""The FHIR module's API function: a Chalice app of this module's routes alone (Lambda handler
``chalicelib.fhir.function.app``; infra/package.py points the module's routes at it)."""

from chalicelib.core.http.api import function_app
from chalicelib.fhir.routes import router

app = function_app("mes-fhir", router.blueprint)
