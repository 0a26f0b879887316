"""Mon espace santé API: builds the Chalice app and registers each module's routes.

Thin on purpose: rules live in chalicelib/<module>/service.py, HTTP plumbing in
chalicelib/core/api.py.
"""

from chalice import Chalice

from chalicelib import events
from chalicelib.access.routes import router as access
from chalicelib.activity.routes import router as activity
from chalicelib.catalogue.routes import router as catalogue
from chalicelib.agenda.routes import router as agenda
from chalicelib.documents.routes import router as documents
from chalicelib.enrolment.routes import router as enrolment
from chalicelib.export.routes import router as export
from chalicelib.messaging.routes import router as messaging
from chalicelib.platform.routes import router as platform
from chalicelib.profile.routes import router as profile

app = Chalice(app_name="mon-espace-sante")
app.api.binary_types = ["application/pdf", "image/jpeg", "image/png", "application/octet-stream"]

for router in (platform, enrolment, access, activity, documents, profile, catalogue, export, messaging, agenda):
    app.register_blueprint(router.blueprint)
app.register_blueprint(events.blueprint)
