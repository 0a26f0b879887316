"""The documents module's API function: a Chalice app of this module's routes alone (Lambda handler
``chalicelib.documents.function.app``; infra/package.py points the module's routes at it)."""

from chalicelib.core.http.api import function_app
from chalicelib.documents.routes import router

app = function_app("mes-documents", router.blueprint)
