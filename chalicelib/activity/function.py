"""The activity module's API function: a Chalice app of this module's routes alone (Lambda handler
``chalicelib.activity.function.app``; infra/package.py points the module's routes at it)."""

from chalicelib.activity.routes import router
from chalicelib.core.http.api import function_app

app = function_app("mes-activity", router.blueprint)
