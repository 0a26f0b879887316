"""The profile module's API function: a Chalice app of this module's routes alone (Lambda handler
``chalicelib.profile.function.app``; infra/package.py points the module's routes at it)."""

from chalicelib.core.http.api import function_app
from chalicelib.profile.routes import router

app = function_app("mes-profile", router.blueprint)
