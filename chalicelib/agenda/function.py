"""The agenda module's API function: a Chalice app of this module's routes alone (Lambda handler
``chalicelib.agenda.function.app``; infra/package.py points the module's routes at it)."""

from chalicelib.agenda.routes import router
from chalicelib.core.http.api import function_app

app = function_app("mes-agenda", router.blueprint)
