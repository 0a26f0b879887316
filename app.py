"""Mon espace santé API: builds the Chalice app and registers each module's routes.

Thin on purpose: rules live in chalicelib/<module>/service.py, HTTP plumbing in
chalicelib/core/api.py.
"""

from chalice import Chalice

from chalicelib import events
from chalicelib.activity.routes import router as activity
from chalicelib.documents.routes import router as documents
from chalicelib.enrolment.routes import router as enrolment
from chalicelib.platform.routes import router as platform

app = Chalice(app_name="mon-espace-sante")
app.api.binary_types = ["application/pdf", "image/jpeg", "image/png", "application/octet-stream"]

for router in (platform, enrolment, activity, documents):
    app.register_blueprint(router.blueprint)
app.register_blueprint(events.blueprint)
