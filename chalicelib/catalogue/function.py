"""The catalogue module's API function: a Chalice app of this module's routes alone (Lambda handler
``chalicelib.catalogue.function.app``; infra/package.py points the module's routes at it)."""

from chalicelib.catalogue.routes import router
from chalicelib.core.http.api import function_app

app = function_app("mes-catalogue", router.blueprint)
