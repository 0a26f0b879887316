"""The one access decision every endpoint calls: ``decide(actor, space, action, resource, now)``.

Pure: no I/O, no AWS, stdlib only. docs/domain.md (§ Who may see what, § Account lifecycle) is the
source; whatever it does not allow is denied. ``now`` and every datetime given must be
timezone-aware (UTC).

Order of checks
1. The request: a known action and kind, the action meaningful for that kind (``search``,
   ``emergency_access`` and ``regulation_access`` concern the whole space: ``Resource("space")``
   only; the emergency summary is read only).
2. The role: patient, representative, caregiver, professional and app go on. Insurers, mutual insurers,
   employers and any unknown role get nothing (L1111-18, whatever the patient granted); enrolment
   agents, catalogue admins and migration operators never reach a space's data.
3. Per role, first matching rule wins:
   - patient: own space -> a minor's own login reaches nothing (the representatives manage the
     space until the 18th birthday) -> the holder's rules below.
   - representative (a legal representative of a minor, or the guardian of a protected adult,
     acting with their own patient token): named on the space -> the relationship still holds
     (a legal representative until the holder's 18th birthday, a guardian until the end date) ->
     documents hidden from the representatives (the minor's secret) do not exist for them, nor
     the history events about them -> the holder's rules below (messaging included: they read
     and answer the holder's conversations, as they do the record).
   - the holder's rules (patient, representative): professional-only actions -> cannot open a
     conversation -> space open (except reading the activity history or the space itself, and
     closing it) -> documents still invisible to the patient, and the history events about
     them, are hidden -> release and lifting
     the minor's secret are the author's -> allowed.
   - professional: space open -> not blocked -> known profession -> patient-only kinds/actions ->
     occupational doctor needs a valid grant (never emergency) -> search / the two emergency
     pathways (``PATHWAYS``: break-glass for any professional, regulation for a ``medecin`` whose
     token carries ``regulation``; each refused only by the patient's own choice about it) /
     messaging -> activity (treating doctor) -> documents (deposit freely; the author keeps every
     right; others read with grant / treating doctor / emergency session / regulation session,
     then the masked rule, then the profession x document type matrix) -> profile, measurements,
     agenda, the emergency summary (read or add with read access — a regulation session reads
     only; agenda events also updated/deleted by their author while they have it).
   The emergency summary is the holder's to read like the record (patient, representatives, and
   whoever reads what the patient reads), and a professional's with read access; not an app's.
   - caregiver (an adult's one helper, acting with their own patient token): named on the space ->
     the relationship is active (accepted, not ended; never on a minor's space) -> space open ->
     the caregiving itself: read it, end their own -> reading anything but the patient's decisions
     (access settings, connections, export, messages), or adding (documents, profile entries,
     measurements, agenda events, and changing agenda events) -> the holder's rules (what the
     patient does not see, they do not see); anything else (masking, deleting, settings,
     closing...) is the patient's own decision (docs/domain.md § Caregivers).
   - app: the space it is connected to -> connection live -> space open -> scope -> masked and
     invisible documents hidden, and (while the holder is a minor: the app was connected by a
     representative) documents hidden from the representatives.
   Depositing a document hidden from the representatives is for professionals, on a minor's
   space: anything else is a bad request (``BAD_REQUEST_REASONS``: 400, not 403).

``hide_existence`` tells the endpoint to answer 404 rather than 403: a space the caller has no
relationship with, a document masked or still invisible for this caller, a document type the
profession may not read, or (for representatives) a document hidden from them.

Majority is computed from the birth date at ``now`` (UTC date): on the 18th birthday the
representatives lose everything at once and the young adult holds the space, with no job to run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from chalicelib.core.data.layout import OPEN_STATUSES
from chalicelib.core.policy.matrix import readable_document_types
from chalicelib.core.security.identifiers import PROFESSIONS

# --- actions ------------------------------------------------------------------------------------
READ = "read"
CREATE = "create"
UPDATE = "update"
DELETE = "delete"
MASK = "mask"  # mask / unmask a document
RELEASE = "release"  # make a document invisible to the patient visible
DISCLOSE = "disclose"  # lift the minor's secret: a document hidden from the representatives
MANAGE_ACCESS = "manage_access"  # grants, blocks, treating doctor, emergency setting, connections
EMERGENCY_ACCESS = "emergency_access"  # open a break-glass session
REGULATION_ACCESS = "regulation_access"  # a SAMU regulator doctor opens a read session
MESSAGE = "message"  # open or write in a conversation
SEARCH = "search"  # a professional looks a patient up
ACTIONS = frozenset(
    {
        READ,
        CREATE,
        UPDATE,
        DELETE,
        MASK,
        RELEASE,
        DISCLOSE,
        MANAGE_ACCESS,
        EMERGENCY_ACCESS,
        REGULATION_ACCESS,
        MESSAGE,
        SEARCH,
    }
)

# --- resource kinds -----------------------------------------------------------------------------
DOCUMENT = "document"
PROFILE = "profile"
MEASUREMENT = "measurement"
AGENDA = "agenda"
ACTIVITY = "activity"
ACCESS_SETTINGS = "access_settings"
CONVERSATION = "conversation"
EXPORT = "export"
CONNECTION = "connection"
SPACE = "space"
EMERGENCY_SUMMARY = "emergency_summary"  # allergies, treatments, ..., people to call, advance directives
CAREGIVING = "caregiving"  # the space's caregiver relationship (invitation, list, end)

_CRUD = frozenset({READ, CREATE, UPDATE, DELETE})
VALID_ACTIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        DOCUMENT: _CRUD | {MASK, RELEASE, DISCLOSE},
        PROFILE: _CRUD,
        MEASUREMENT: _CRUD,
        AGENDA: _CRUD,
        ACTIVITY: frozenset({READ}),
        ACCESS_SETTINGS: _CRUD | {MANAGE_ACCESS},
        CONNECTION: _CRUD | {MANAGE_ACCESS},
        CONVERSATION: frozenset({READ, CREATE, MESSAGE}),
        EXPORT: frozenset({READ}),
        SPACE: frozenset({READ, UPDATE, DELETE, MANAGE_ACCESS, MESSAGE, EMERGENCY_ACCESS, REGULATION_ACCESS, SEARCH}),
        CAREGIVING: frozenset({READ, CREATE, DELETE}),
        EMERGENCY_SUMMARY: frozenset({READ}),
    }
)
KINDS = frozenset(VALID_ACTIONS)

# --- roles and statuses -------------------------------------------------------------------------
PATIENT = "patient"
REPRESENTATIVE = "representative"  # a legal representative or a guardian, as their own person
PROFESSIONAL = "professional"
APP = "app"
ENROLMENT_AGENT = "enrolment_agent"
CATALOGUE_ADMIN = "catalogue_admin"
MIGRATION_OPERATOR = "migration_operator"  # starts and follows legacy DMP imports
OCCUPATIONAL_DOCTOR = "medecin_du_travail"
REGULATOR_PROFESSION = "medecin"  # the SAMU's regulator doctors (centre 15)
CAREGIVER = "caregiver"  # an adult's helper (proche aidant), as their own person

INVISIBILITY_PERIOD = timedelta(days=30)
MAJORITY_AGE = 18
# Relationships of a representative to the space they act on.
LEGAL_REPRESENTATIVE = "legal_representative"
GUARDIAN = "guardian"

# Kinds only the patient touches (professionals and apps are denied)...
PATIENT_ONLY_KINDS = frozenset({ACCESS_SETTINGS, CONNECTION, EXPORT, SPACE, CAREGIVING})
# ...except these space-level actions of professionals.
PROFESSIONAL_SPACE_ACTIONS = frozenset({SEARCH, EMERGENCY_ACCESS, REGULATION_ACCESS, MESSAGE})
# What the holder may still do on a space that is not open (invited, opposed, closed): closing
# says itself why it cannot be done (enrolment's transitions).
PATIENT_ANY_STATUS = frozenset({(ACTIVITY, READ), (SPACE, READ), (SPACE, DELETE)})
# A caregiver reads what the patient reads but the patient's decisions, which they never touch...
CAREGIVER_BARRED_KINDS = frozenset({ACCESS_SETTINGS, CONNECTION, EXPORT, CONVERSATION})
# ...and adds: documents, profile entries, measurements, and keeps the agenda (never deletes).
CAREGIVER_WRITES = frozenset(
    {(DOCUMENT, CREATE), (PROFILE, CREATE), (MEASUREMENT, CREATE), (AGENDA, CREATE), (AGENDA, UPDATE)}
)
# (kind, action) -> scopes of which the app needs one.
APP_SCOPES: Mapping[tuple[str, str], frozenset[str]] = MappingProxyType(
    {
        (MEASUREMENT, READ): frozenset({"measurements:read", "profile:read"}),
        (MEASUREMENT, CREATE): frozenset({"measurements:write"}),
        (DOCUMENT, READ): frozenset({"documents:read"}),
        (DOCUMENT, CREATE): frozenset({"documents:write"}),
        (AGENDA, READ): frozenset({"agenda:read"}),
        (AGENDA, CREATE): frozenset({"agenda:write"}),
        (AGENDA, UPDATE): frozenset({"agenda:write"}),
        (AGENDA, DELETE): frozenset({"agenda:write"}),
        (PROFILE, READ): frozenset({"profile:read"}),
    }
)


class Reason:
    """Machine-readable ``Decision.reason`` values."""

    # allowed
    PATIENT_OWN_SPACE = "patient_own_space"
    LEGAL_REPRESENTATIVE = "legal_representative"
    GUARDIAN = "guardian"
    TREATING_DOCTOR = "treating_doctor"
    GRANT = "grant"
    EMERGENCY_SESSION = "emergency_session"
    REGULATION_SESSION = "regulation_session"
    AUTHOR = "author"
    DEPOSIT = "deposit"
    MESSAGING = "messaging"
    SEARCH = "search"
    EMERGENCY_ACCESS = "emergency_access"
    REGULATION_ACCESS = "regulation_access"
    APP_SCOPE = "app_scope"
    CAREGIVER = "caregiver"
    # denied
    UNKNOWN_ACTION = "unknown_action"
    UNKNOWN_KIND = "unknown_kind"
    UNSUPPORTED_ACTION = "unsupported_action"
    FORBIDDEN_ROLE = "forbidden_role"
    NO_HEALTH_DATA = "no_health_data"
    NOT_OWN_SPACE = "not_own_space"
    SPACE_NOT_OPEN = "space_not_open"
    PROFESSIONAL_ONLY = "professional_only"
    PATIENT_ONLY = "patient_only"
    PATIENT_CANNOT_OPEN_CONVERSATION = "patient_cannot_open_conversation"
    INVISIBLE_TO_PATIENT = "invisible_to_patient"
    INVISIBLE_RESERVED_TO_PROFESSIONALS = "invisible_reserved_to_professionals"
    MANAGED_BY_REPRESENTATIVES = "managed_by_representatives"
    NOT_REPRESENTATIVE = "not_representative"
    REPRESENTATION_ENDED = "representation_ended"
    HIDDEN_FROM_REPRESENTATIVES = "hidden_from_representatives"
    HIDDEN_RESERVED_TO_PROFESSIONALS = "hidden_reserved_to_professionals"
    HIDDEN_ONLY_FOR_MINORS = "hidden_only_for_minors"
    BLOCKED = "blocked"
    UNKNOWN_PROFESSION = "unknown_profession"
    OCCUPATIONAL_DOCTOR_NEEDS_GRANT = "occupational_doctor_needs_grant"
    EMERGENCY_OPTED_OUT = "emergency_opted_out"
    REGULATION_OPTED_OUT = "regulation_opted_out"
    NOT_REGULATOR = "not_regulator"
    TREATING_DOCTOR_ONLY = "treating_doctor_only"
    NO_GRANT = "no_grant"
    MASKED = "masked"
    PROFESSION_MATRIX = "profession_matrix"
    AUTHOR_ONLY = "author_only"
    APP_NOT_CONNECTED = "app_not_connected"
    APP_NOT_ALLOWED = "app_not_allowed"
    MISSING_SCOPE = "missing_scope"
    NOT_CAREGIVER = "not_caregiver"
    CAREGIVING_NOT_ACTIVE = "caregiving_not_active"
    CAREGIVER_MAY_NOT = "caregiver_may_not"
    HOLDER_ONLY = "holder_only"


ALLOW_REASONS = frozenset(
    {
        Reason.PATIENT_OWN_SPACE,
        Reason.LEGAL_REPRESENTATIVE,
        Reason.GUARDIAN,
        Reason.TREATING_DOCTOR,
        Reason.GRANT,
        Reason.EMERGENCY_SESSION,
        Reason.REGULATION_SESSION,
        Reason.AUTHOR,
        Reason.DEPOSIT,
        Reason.MESSAGING,
        Reason.SEARCH,
        Reason.EMERGENCY_ACCESS,
        Reason.REGULATION_ACCESS,
        Reason.APP_SCOPE,
        Reason.CAREGIVER,
    }
)

# Denials that are the request's fault (400), not a refusal (403).
BAD_REQUEST_REASONS = frozenset({Reason.HIDDEN_RESERVED_TO_PROFESSIONALS, Reason.HIDDEN_ONLY_FOR_MINORS})

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty_mapping() -> Mapping[str, Any]:
    return _EMPTY


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return value if isinstance(value, MappingProxyType) else MappingProxyType(dict(value))


# --- inputs and output --------------------------------------------------------------------------
@dataclass(frozen=True)
class Actor:
    role: str
    # patient_id (patient), the person's own opaque id (representative: the same as their own
    # patient_id when they have a space), RPPS (professional), client_id (app), sub otherwise
    id: str
    profession: str | None = None  # professional only
    patient_id: str | None = None  # patient: own space; app: the space it is connected to
    scopes: frozenset[str] = frozenset()  # app: in its token AND its live connection
    app_connected: bool = False  # app: connection exists and the app is referenced
    regulation: bool = False  # professional: the token says a SAMU regulator doctor (claim ``regulation``)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", frozenset(self.scopes))


@dataclass(frozen=True)
class Representation:
    """A person who acts on the space for its holder: a legal representative (while the holder is
    a minor) or a guardian appointed by a judge (until ``until``, when given)."""

    person_id: str  # the representative's own opaque id (Actor.id)
    relationship: str  # LEGAL_REPRESENTATIVE | GUARDIAN
    until: date | None = None  # guardian: the day it ends (no access from that day on)


@dataclass(frozen=True)
class Caregiving:
    """A person the adult named to help with their space (docs/domain.md § Caregivers)."""

    person_id: str  # the caregiver's own opaque id (Actor.id)
    active: bool  # accepted and not ended: an invitation, or a caregiving ended, opens nothing


@dataclass(frozen=True)
class Space:
    patient_id: str
    status: str  # invited | active | opposed | auto_created | closed
    birth_date: date | None = None  # the holder's; None: taken as an adult
    treating_doctor: str | None = None  # RPPS
    emergency_access_allowed: bool = True
    # RPPS -> expiry (None: no expiry)
    grants: Mapping[str, datetime | None] = field(default_factory=_empty_mapping, hash=False)
    blocked: frozenset[str] = frozenset()  # RPPS
    # RPPS -> end of the emergency session that professional opened
    emergency_sessions: Mapping[str, datetime] = field(default_factory=_empty_mapping, hash=False)
    representations: tuple[Representation, ...] = ()
    regulation_access_allowed: bool = True  # the SAMU regulators' access: a choice apart from break-glass
    # RPPS -> end of the regulation session that regulator opened
    regulation_sessions: Mapping[str, datetime] = field(default_factory=_empty_mapping, hash=False)
    caregivers: tuple[Caregiving, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "representations", tuple(self.representations))
        object.__setattr__(self, "caregivers", tuple(self.caregivers))
        object.__setattr__(self, "grants", _frozen_mapping(self.grants))
        object.__setattr__(self, "emergency_sessions", _frozen_mapping(self.emergency_sessions))
        object.__setattr__(self, "regulation_sessions", _frozen_mapping(self.regulation_sessions))
        object.__setattr__(self, "blocked", frozenset(self.blocked))


@dataclass(frozen=True)
class Resource:
    kind: str
    document_type: str | None = None
    author: tuple[str, str] | None = None  # (role, id); a caregiving: ("caregiver", its caregiver's id)
    masked: bool = False
    # a document (or a history event about one) hidden from the patient until released
    invisible_to_patient: bool = False
    invisible_since: datetime | None = None  # visible automatically INVISIBILITY_PERIOD later
    # the minor's secret: a document (or a history event about one) the representatives never see
    hidden_from_representatives: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    hide_existence: bool = False  # answer 404 rather than 403


def _allow(reason: str) -> Decision:
    return Decision(True, reason)


def _deny(reason: str, *, hide: bool = False) -> Decision:
    return Decision(False, reason, hide)


# --- facts --------------------------------------------------------------------------------------
def majority_day(birth_date: date) -> date:
    """The 18th birthday (born on 29 February: 1 March, the day after 28 February in a common
    year): from that day on the person is an adult."""
    try:
        return birth_date.replace(year=birth_date.year + MAJORITY_AGE)
    except ValueError:
        return date(birth_date.year + MAJORITY_AGE, 3, 1)


def is_minor(birth_date: date | None, today: date) -> bool:
    return birth_date is not None and today < majority_day(birth_date)


def _minor_space(space: Space, now: datetime) -> bool:
    return is_minor(space.birth_date, now.date())


def representation_holds(representation: Representation, space: Space, now: datetime) -> bool:
    """A legal representative acts until the holder's 18th birthday; a guardian until the end
    date (exclusive), and only for an adult (a minor's space is the legal representatives')."""
    if representation.relationship == LEGAL_REPRESENTATIVE:
        return _minor_space(space, now)
    if representation.relationship == GUARDIAN:
        within = representation.until is None or now.date() < representation.until
        return within and not _minor_space(space, now)
    return False


def _space_open(space: Space) -> bool:
    return space.status in OPEN_STATUSES


def _is_author(actor: Actor, resource: Resource) -> bool:
    return resource.author is not None and tuple(resource.author) == (actor.role, actor.id)


def still_invisible(resource: Resource, now: datetime) -> bool:
    """Invisible to the patient until released (flag cleared) or INVISIBILITY_PERIOD elapsed."""
    if not resource.invisible_to_patient:
        return False
    if resource.invisible_since is None:  # just deposited
        return True
    return now < resource.invisible_since + INVISIBILITY_PERIOD


def _has_valid_grant(space: Space, rpps: str, now: datetime) -> bool:
    if rpps not in space.grants:
        return False
    expiry = space.grants[rpps]
    return expiry is None or expiry > now


def _is_occupational(actor: Actor) -> bool:
    return actor.profession == OCCUPATIONAL_DOCTOR


def _is_treating_doctor(actor: Actor, space: Space) -> bool:
    """Treating-doctor status never counts for an occupational doctor."""
    return not _is_occupational(actor) and space.treating_doctor is not None and space.treating_doctor == actor.id


@dataclass(frozen=True)
class Pathway:
    """One of the two emergencies (docs/domain.md § Emergency pathway), each its own choice of the
    patient: the action that opens a session, how long it lasts, and the Space fields holding the
    choice and the sessions. Opposing one never touches the other's fields."""

    action: str
    duration: timedelta
    allowed_field: str
    sessions_field: str
    opened: str  # Reason of the opening
    reading: str  # Reason of a read through an open session
    opted_out: str  # Reason when the patient opposed

    def allowed(self, space: Space) -> bool:
        return bool(getattr(space, self.allowed_field))

    def may_open(self, actor: Actor) -> bool:
        """Break-glass: any professional (not an occupational doctor, refused before); regulation:
        a doctor whose token says they regulate for the SAMU."""
        return self.action != REGULATION_ACCESS or (actor.regulation and actor.profession == REGULATOR_PROFESSION)

    def session_open(self, actor: Actor, space: Space, now: datetime) -> bool:
        """An open session counts only while the patient still allows this pathway, for whom may
        open it (a regulator's session is nothing to the same RPPS's ordinary token)."""
        if _is_occupational(actor) or not self.allowed(space) or not self.may_open(actor):
            return False
        expiry = getattr(space, self.sessions_field).get(actor.id)
        return expiry is not None and expiry > now


BREAK_GLASS = Pathway(
    EMERGENCY_ACCESS,
    timedelta(hours=4),
    "emergency_access_allowed",
    "emergency_sessions",
    Reason.EMERGENCY_ACCESS,
    Reason.EMERGENCY_SESSION,
    Reason.EMERGENCY_OPTED_OUT,
)
REGULATION = Pathway(
    REGULATION_ACCESS,
    timedelta(hours=1),
    "regulation_access_allowed",
    "regulation_sessions",
    Reason.REGULATION_ACCESS,
    Reason.REGULATION_SESSION,
    Reason.REGULATION_OPTED_OUT,
)
PATHWAYS: Mapping[str, Pathway] = MappingProxyType({p.action: p for p in (BREAK_GLASS, REGULATION)})


def _read_basis(actor: Actor, space: Space, now: datetime, action: str = READ) -> str | None:
    """Why this professional may consult the record, or None. A regulator's session is read
    access only (docs/domain.md § Emergency pathway): it never lets them add."""
    if _is_treating_doctor(actor, space):
        return Reason.TREATING_DOCTOR
    if _has_valid_grant(space, actor.id, now):
        return Reason.GRANT
    if BREAK_GLASS.session_open(actor, space, now):
        return Reason.EMERGENCY_SESSION
    if action == READ and REGULATION.session_open(actor, space, now):
        return Reason.REGULATION_SESSION
    return None


# --- entry point --------------------------------------------------------------------------------
def decide(actor: Actor, space: Space, action: str, resource: Resource, now: datetime) -> Decision:
    """May ``actor`` do ``action`` on ``resource`` in ``space`` at ``now``? Deny by default."""
    malformed = _check_request(action, resource)
    if malformed is not None:
        return malformed
    if actor.role == PATIENT:
        return _decide_patient(actor, space, action, resource, now)
    if actor.role == REPRESENTATIVE:
        return _decide_representative(actor, space, action, resource, now)
    if actor.role == PROFESSIONAL:
        return _decide_professional(actor, space, action, resource, now)
    if actor.role == APP:
        return _decide_app(actor, space, action, resource, now)
    if actor.role == CAREGIVER:
        return _decide_caregiver(actor, space, action, resource, now)
    if actor.role in (ENROLMENT_AGENT, CATALOGUE_ADMIN, MIGRATION_OPERATOR):
        return _deny(Reason.NO_HEALTH_DATA)
    return _deny(Reason.FORBIDDEN_ROLE)  # insurer, mutual_insurer, employer, unknown...


def _check_request(action: str, resource: Resource) -> Decision | None:
    if action not in ACTIONS:
        return _deny(Reason.UNKNOWN_ACTION)
    if resource.kind not in KINDS:
        return _deny(Reason.UNKNOWN_KIND)
    if action not in VALID_ACTIONS[resource.kind]:
        return _deny(Reason.UNSUPPORTED_ACTION)
    return None


# --- patient and representatives: the holder's rights --------------------------------------------
def _decide_patient(actor: Actor, space: Space, action: str, resource: Resource, now: datetime) -> Decision:
    if actor.patient_id is None or actor.patient_id != space.patient_id:
        return _deny(Reason.NOT_OWN_SPACE, hide=True)
    if _minor_space(space, now):
        return _deny(Reason.MANAGED_BY_REPRESENTATIVES)
    return _decide_holder(actor, space, action, resource, now, Reason.PATIENT_OWN_SPACE)


def _decide_representative(actor: Actor, space: Space, action: str, resource: Resource, now: datetime) -> Decision:
    mine = [r for r in space.representations if r.person_id == actor.id]
    if not mine:
        return _deny(Reason.NOT_REPRESENTATIVE, hide=True)
    holding = next((r for r in mine if representation_holds(r, space, now)), None)
    if holding is None:
        return _deny(Reason.REPRESENTATION_ENDED)
    if resource.hidden_from_representatives:  # what is hidden from them, or their hiding something
        if action == CREATE:
            return _deny(Reason.HIDDEN_RESERVED_TO_PROFESSIONALS)
        return _deny(Reason.HIDDEN_FROM_REPRESENTATIVES, hide=True)
    if resource.kind == CAREGIVING:
        return _deny(Reason.HOLDER_ONLY)  # an adult names their caregiver themself
    reason = Reason.GUARDIAN if holding.relationship == GUARDIAN else Reason.LEGAL_REPRESENTATIVE
    return _decide_holder(actor, space, action, resource, now, reason)


def _decide_holder(actor: Actor, space: Space, action: str, resource: Resource, now: datetime, reason: str) -> Decision:
    if action in (SEARCH, EMERGENCY_ACCESS, REGULATION_ACCESS):
        return _deny(Reason.PROFESSIONAL_ONLY)
    if resource.kind == CONVERSATION and action == CREATE:
        return _deny(Reason.PATIENT_CANNOT_OPEN_CONVERSATION)
    if not _space_open(space) and (resource.kind, action) not in PATIENT_ANY_STATUS:
        return _deny(Reason.SPACE_NOT_OPEN)
    if resource.kind == ACTIVITY and still_invisible(resource, now):
        return _deny(Reason.INVISIBLE_TO_PATIENT, hide=True)  # an event about a document still invisible
    if resource.kind == DOCUMENT:
        hidden = _document_hidden_from_patient_side(actor, space, action, resource, now)
        if hidden is not None:
            return hidden
        if action in (RELEASE, DISCLOSE) and not _is_author(actor, resource):
            return _deny(Reason.AUTHOR_ONLY)
    return _allow(reason)


def _document_hidden_from_patient_side(
    actor: Actor, space: Space, action: str, resource: Resource, now: datetime
) -> Decision | None:
    """Patient, representatives and apps: only professionals deposit invisible or hidden
    documents; still-invisible ones, (for apps) masked ones they did not author and, while the
    holder is a minor, those hidden from the representatives (an app there was connected by a
    representative) do not exist for them."""
    if action == CREATE:
        if resource.invisible_to_patient:
            return _deny(Reason.INVISIBLE_RESERVED_TO_PROFESSIONALS)
        if resource.hidden_from_representatives:
            return _deny(Reason.HIDDEN_RESERVED_TO_PROFESSIONALS)
        return None
    if actor.role == APP and resource.masked and not _is_author(actor, resource):
        return _deny(Reason.MASKED, hide=True)
    if actor.role == APP and resource.hidden_from_representatives and _minor_space(space, now):
        return _deny(Reason.HIDDEN_FROM_REPRESENTATIVES, hide=True)
    if still_invisible(resource, now):
        return _deny(Reason.INVISIBLE_TO_PATIENT, hide=True)
    return None


# --- caregiver ----------------------------------------------------------------------------------
def _decide_caregiver(actor: Actor, space: Space, action: str, resource: Resource, now: datetime) -> Decision:
    mine = [c for c in space.caregivers if c.person_id == actor.id]
    if not mine:
        return _deny(Reason.NOT_CAREGIVER, hide=True)
    if not any(c.active for c in mine) or _minor_space(space, now):
        return _deny(Reason.CAREGIVING_NOT_ACTIVE)
    if not _space_open(space):
        return _deny(Reason.SPACE_NOT_OPEN, hide=True)
    if resource.kind == CAREGIVING:
        if action == READ or (action == DELETE and _is_author(actor, resource)):  # leaving: their own
            return _allow(Reason.CAREGIVER)
        return _deny(Reason.CAREGIVER_MAY_NOT)
    reads = action == READ and resource.kind not in CAREGIVER_BARRED_KINDS
    if not reads and (resource.kind, action) not in CAREGIVER_WRITES:
        return _deny(Reason.CAREGIVER_MAY_NOT)
    return _decide_holder(actor, space, action, resource, now, Reason.CAREGIVER)


# --- professional -------------------------------------------------------------------------------
def _decide_professional(actor: Actor, space: Space, action: str, resource: Resource, now: datetime) -> Decision:
    if not _space_open(space):
        return _deny(Reason.SPACE_NOT_OPEN, hide=True)
    if actor.id in space.blocked:
        return _deny(Reason.BLOCKED)
    if actor.profession not in PROFESSIONS:
        return _deny(Reason.UNKNOWN_PROFESSION)
    if action in (MASK, MANAGE_ACCESS) or (
        resource.kind in PATIENT_ONLY_KINDS and action not in PROFESSIONAL_SPACE_ACTIONS
    ):
        return _deny(Reason.PATIENT_ONLY)
    if _is_occupational(actor) and (action in PATHWAYS or not _has_valid_grant(space, actor.id, now)):
        return _deny(Reason.OCCUPATIONAL_DOCTOR_NEEDS_GRANT)
    if action == SEARCH:
        return _allow(Reason.SEARCH)
    if action in PATHWAYS:
        pathway = PATHWAYS[action]
        if not pathway.may_open(actor):
            return _deny(Reason.NOT_REGULATOR)
        if not pathway.allowed(space):
            return _deny(pathway.opted_out)
        return _allow(pathway.opened)
    if action == MESSAGE or resource.kind == CONVERSATION:
        return _allow(Reason.MESSAGING)  # participation in a given conversation: messaging module
    if resource.kind == ACTIVITY:
        if _is_treating_doctor(actor, space):
            return _allow(Reason.TREATING_DOCTOR)
        return _deny(Reason.TREATING_DOCTOR_ONLY)
    if resource.kind == DOCUMENT:
        return _professional_document(actor, space, action, resource, now)
    return _professional_entry(actor, space, action, resource, now)  # profile, measurement, agenda, summary


def _professional_document(actor: Actor, space: Space, action: str, resource: Resource, now: datetime) -> Decision:
    if action == CREATE:
        if resource.hidden_from_representatives and not _minor_space(space, now):
            return _deny(Reason.HIDDEN_ONLY_FOR_MINORS)  # no minor's secret for an adult
        return _allow(Reason.DEPOSIT)  # feeding the record is their duty: no grant needed
    if _is_author(actor, resource):
        return _allow(Reason.AUTHOR)  # read (even masked), update/release, delete
    seen = _professional_may_read_document(actor, space, resource, now)
    if action == READ or seen.hide_existence:
        return seen
    return _deny(Reason.AUTHOR_ONLY)  # update, delete, release


def _professional_may_read_document(actor: Actor, space: Space, resource: Resource, now: datetime) -> Decision:
    basis = _read_basis(actor, space, now)
    if basis is None:
        return _deny(Reason.NO_GRANT)
    if resource.masked and not _is_treating_doctor(actor, space):
        return _deny(Reason.MASKED, hide=True)
    if resource.document_type not in readable_document_types(actor.profession):
        return _deny(Reason.PROFESSION_MATRIX, hide=True)
    return _allow(basis)


def _professional_entry(actor: Actor, space: Space, action: str, resource: Resource, now: datetime) -> Decision:
    """Profile entries, measurements, agenda events: read or add with read access; an agenda
    event is also updated and deleted by the professional who wrote it, while they may write.
    The emergency summary: read with read access (break-glass and regulation sessions included)."""
    if action not in (READ, CREATE):
        if resource.kind != AGENDA:
            return _deny(Reason.PATIENT_ONLY)
        if not _is_author(actor, resource):
            return _deny(Reason.AUTHOR_ONLY)
    basis = _read_basis(actor, space, now, action)
    if basis is None:
        return _deny(Reason.NO_GRANT)
    return _allow(Reason.AUTHOR if action not in (READ, CREATE) else basis)


# --- app ----------------------------------------------------------------------------------------
def _decide_app(actor: Actor, space: Space, action: str, resource: Resource, now: datetime) -> Decision:
    if actor.patient_id is None or actor.patient_id != space.patient_id:
        return _deny(Reason.NOT_OWN_SPACE, hide=True)
    if not actor.app_connected:
        return _deny(Reason.APP_NOT_CONNECTED)
    if not _space_open(space):
        return _deny(Reason.SPACE_NOT_OPEN)
    needed = APP_SCOPES.get((resource.kind, action))
    if needed is None:
        return _deny(Reason.APP_NOT_ALLOWED)
    if not needed & actor.scopes:
        return _deny(Reason.MISSING_SCOPE)
    if resource.kind == DOCUMENT:
        hidden = _document_hidden_from_patient_side(actor, space, action, resource, now)
        if hidden is not None:
            return hidden
    return _allow(Reason.APP_SCOPE)
