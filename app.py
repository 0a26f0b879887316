"""Mon espace santé API: the whole API in one Chalice app, for `make run` (one port) and for
`make package` (Chalice describes every route and event handler from it; infra/package.py then
gives each module its own function: chalicelib/<module>/function.py, chalicelib/<module>/events.py).

Thin on purpose: rules live in chalicelib/<module>/service.py, HTTP plumbing in
chalicelib/core/http/api.py.
"""

from chalicelib.access.routes import router as access
from chalicelib.activity import events as activity_events
from chalicelib.activity.routes import router as activity
from chalicelib.agenda import events as agenda_events
from chalicelib.agenda.routes import router as agenda
from chalicelib.catalogue import events as catalogue_events
from chalicelib.catalogue.routes import router as catalogue
from chalicelib.core.http.api import function_app
from chalicelib.documents import events as documents_events
from chalicelib.documents.routes import router as documents
from chalicelib.enrolment import events as enrolment_events
from chalicelib.enrolment.routes import router as enrolment
from chalicelib.export.routes import router as export
from chalicelib.fhir.routes import router as fhir
from chalicelib.messaging import events as messaging_events
from chalicelib.messaging.routes import router as messaging
from chalicelib.migration.routes import router as migration
from chalicelib.platform.routes import router as platform
from chalicelib.profile import events as profile_events
from chalicelib.profile.routes import router as profile

ROUTERS = (
    platform,
    enrolment,
    access,
    activity,
    documents,
    fhir,
    profile,
    catalogue,
    export,
    messaging,
    agenda,
    migration,
)
EVENTS = (
    activity_events,
    enrolment_events,
    documents_events,
    messaging_events,
    profile_events,
    catalogue_events,
    agenda_events,
)

app = function_app(
    "mon-espace-sante",
    *(router.blueprint for router in ROUTERS),
    *(events.blueprint for events in EVENTS),
)
