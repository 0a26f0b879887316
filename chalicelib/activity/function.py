"""The activity module's API function: a Chalice app of this module's routes alone (Lambda handler
``chalicelib.activity.function.app``; infra/package.py points the module's routes at it)."""

from chalicelib.core.http.api import function_app
from chalicelib.activity.routes import router

app = function_app("mes-activity", router.blueprint)
