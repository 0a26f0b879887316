"""Access policy: properties that must hold for every actor x space x resource x action x time."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.access.policy import Actor, Resource, Space, decide

SETTINGS = settings(max_examples=300, deadline=None)

ROLES = [
    "patient",
    "professional",
    "app",
    "enrolment_agent",
    "catalogue_admin",
    "insurer",
    "mutual_insurer",
    "employer",
    "unknown",
    "",
    "Patient",
]
NEVER_ALLOWED_ROLES = ["insurer", "mutual_insurer", "employer", "unknown", "", "Patient", "admin"]
PROFESSIONS = [
    "medecin",
    "pharmacien",
    "infirmier",
    "sage_femme",
    "chirurgien_dentiste",
    "masseur_kinesitherapeute",
    "pedicure_podologue",
    "medecin_du_travail",
]
STATUSES = ["invited", "active", "opposed", "auto_created", "closed"]
KINDS = [
    "document",
    "profile",
    "measurement",
    "agenda",
    "activity",
    "access_settings",
    "conversation",
    "export",
    "connection",
    "space",
]
ACTIONS = [
    "read",
    "create",
    "update",
    "delete",
    "mask",
    "release",
    "manage_access",
    "emergency_access",
    "message",
    "search",
]
DOCUMENT_TYPES = [
    "prescription",
    "hospital_report",
    "consultation_report",
    "lab_result",
    "imaging_report",
    "vaccination_record",
    "care_summary",
    "other",
]
SCOPES = [
    "measurements:read",
    "measurements:write",
    "documents:read",
    "documents:write",
    "agenda:read",
    "agenda:write",
    "profile:read",
]
# Written independently of the policy: which scopes make an app call possible at all.
SCOPES_FOR = {
    ("measurement", "read"): {"measurements:read", "profile:read"},
    ("measurement", "create"): {"measurements:write"},
    ("document", "read"): {"documents:read"},
    ("document", "create"): {"documents:write"},
    ("agenda", "read"): {"agenda:read"},
    ("agenda", "create"): {"agenda:write"},
    ("agenda", "update"): {"agenda:write"},
    ("agenda", "delete"): {"agenda:write"},
    ("profile", "read"): {"profile:read"},
}
RPPS = ["R1", "R2", "R3", "R4"]
PATIENTS = ["P1", "P2"]
APPS = ["app-1", "app-2"]
IDS = RPPS + PATIENTS + APPS

NOW_BASE = datetime(2026, 1, 31, 9, 30, tzinfo=timezone.utc)
# Offsets from "now", in minutes, concentrated on the boundaries that matter (expiry == now, the
# 30 days of invisibility). Cheap to draw, which keeps 300 examples per property fast.
DAY = 24 * 60
OFFSETS = [-45 * DAY, -31 * DAY, -30 * DAY - 1, -30 * DAY, -30 * DAY + 1, -DAY, -1, 0, 1, DAY, 30 * DAY]
offsets = st.sampled_from(OFFSETS).map(lambda m: timedelta(minutes=m))


def subset(pool, mask):
    return frozenset(item for i, item in enumerate(pool) if mask >> i & 1)


def moments(now, codes):
    """codes: one per RPPS: -1 absent, len(OFFSETS) no expiry, else an offset index."""
    out = {}
    for rpps, code in zip(RPPS, codes):
        if code == len(OFFSETS):
            out[rpps] = None
        elif code >= 0:
            out[rpps] = now + timedelta(minutes=OFFSETS[code])
    return out


def build(actor_fields, space_fields, resource_fields, action, now_shift):
    role, actor_id, profession, patient_id, scope_mask, connected = actor_fields
    space_id, status, treating, emergency_ok, grant_codes, blocked_mask, session_codes = space_fields
    kind, document_type, author, masked, invisible, since_code = resource_fields
    now = NOW_BASE + timedelta(minutes=now_shift)
    actor = Actor(role, actor_id, profession, patient_id, subset(SCOPES, scope_mask), connected)
    sessions = {k: v for k, v in moments(now, session_codes).items() if v is not None}
    space = Space(
        space_id,
        status,
        treating,
        emergency_ok,
        moments(now, grant_codes),
        subset(RPPS, blocked_mask),
        sessions,
    )
    since = None if since_code < 0 else now + timedelta(minutes=OFFSETS[since_code])
    resource = Resource(kind, document_type, author, masked, invisible, since)
    return actor, space, action, resource, now


def scenarios(roles=st.sampled_from(ROLES), kinds=st.sampled_from(KINDS + ["bogus"])):
    codes = st.tuples(*[st.integers(-1, len(OFFSETS))] * len(RPPS))
    actor_fields = st.tuples(
        roles,
        st.sampled_from(IDS),
        st.sampled_from(PROFESSIONS + [None, "astrologue"]),
        st.sampled_from(PATIENTS + [None]),
        st.integers(0, 2 ** len(SCOPES) - 1),
        st.booleans(),
    )
    space_fields = st.tuples(
        st.sampled_from(PATIENTS),
        st.sampled_from(STATUSES),
        st.sampled_from(RPPS + [None]),
        st.booleans(),
        codes,
        st.integers(0, 2 ** len(RPPS) - 1),
        codes,
    )
    resource_fields = st.tuples(
        kinds,
        st.sampled_from(DOCUMENT_TYPES + [None]),
        st.none()
        | st.tuples(st.sampled_from(["professional", "patient", "app"]), st.sampled_from(IDS)),
        st.booleans(),
        st.booleans(),
        st.integers(-1, len(OFFSETS) - 1),
    )
    return st.builds(
        build,
        actor_fields,
        space_fields,
        resource_fields,
        st.sampled_from(ACTIONS + ["bogus"]),
        st.integers(0, 5 * 365 * DAY),
    )


MALFORMED = {"unknown_action", "unknown_kind", "unsupported_action"}  # programming errors


def professionals():
    return scenarios(roles=st.just("professional"))


def valid_grant(space: Space, rpps: str, now: datetime) -> bool:
    return rpps in space.grants and (space.grants[rpps] is None or space.grants[rpps] > now)


@SETTINGS
@given(scenarios())
def test_decision_is_deterministic_and_consistent(case):
    actor, space, action, resource, now = case
    first = decide(actor, space, action, resource, now)
    assert decide(actor, space, action, resource, now) == first
    if first.allowed:
        assert not first.hide_existence  # hiding only makes sense for a denial
    assert first.reason and first.reason == first.reason.strip().lower()


@SETTINGS
@given(professionals())
def test_blocked_professional_is_never_allowed_anything(case):
    actor, space, action, resource, now = case
    space = replace(space, blocked=space.blocked | {actor.id})
    decision = decide(actor, space, action, resource, now)
    assert not decision.allowed


@SETTINGS
@given(scenarios(roles=st.sampled_from(NEVER_ALLOWED_ROLES)), st.booleans())
def test_insurers_employers_and_unknown_roles_never_allowed(case, granted):
    actor, space, action, resource, now = case
    if granted:  # whatever the patient granted, even naming them treating doctor
        space = replace(space, grants={**space.grants, actor.id: None}, treating_doctor=actor.id)
    assert not decide(actor, space, action, resource, now).allowed


@SETTINGS
@given(scenarios(roles=st.sampled_from(["enrolment_agent", "catalogue_admin"])))
def test_agents_and_catalogue_admins_never_reach_health_data(case):
    actor, space, action, resource, now = case
    assert not decide(actor, space, action, resource, now).allowed


@SETTINGS
@given(scenarios(kinds=st.just("document")))
def test_masking_never_hides_a_document_from_its_author(case):
    actor, space, _, resource, now = case
    mine = replace(resource, author=(actor.role, actor.id))
    unmasked = decide(actor, space, "read", replace(mine, masked=False), now)
    masked = decide(actor, space, "read", replace(mine, masked=True), now)
    if unmasked.allowed:
        assert masked.allowed


@SETTINGS
@given(professionals(), st.sampled_from(["invited", "opposed", "closed"]))
def test_professional_gets_nothing_on_a_space_not_open(case, status):
    actor, space, action, resource, now = case
    decision = decide(actor, replace(space, status=status), action, resource, now)
    assert not decision.allowed
    assert decision.hide_existence or decision.reason in MALFORMED


@SETTINGS
@given(professionals(), st.booleans(), offsets)
def test_occupational_doctor_gets_nothing_without_a_valid_grant(case, expired, age):
    actor, space, action, resource, now = case
    actor = replace(actor, profession="medecin_du_travail")
    grants = dict(space.grants)
    grants.pop(actor.id, None)
    if expired:
        grants[actor.id] = now - abs(age)  # expiry at or before now: not valid
    space = replace(space, grants=grants)
    assert not decide(actor, space, action, resource, now).allowed


@SETTINGS
@given(professionals())
def test_occupational_doctor_never_gets_emergency_access(case):
    actor, space, _, resource, now = case
    actor = replace(actor, profession="medecin_du_travail")
    space = replace(space, grants={**space.grants, actor.id: None})
    assert not decide(actor, space, "emergency_access", resource, now).allowed


@SETTINGS
@given(scenarios(), offsets)
def test_an_expired_grant_is_never_the_reason_of_an_allow(case, age):
    actor, space, action, resource, now = case
    decision = decide(actor, space, action, resource, now)
    if decision.reason == "grant":
        assert decision.allowed and valid_grant(space, actor.id, now)
    # an expired grant behaves exactly as no grant at all
    without = dict(space.grants)
    without.pop(actor.id, None)
    expired = {**without, actor.id: now - abs(age)}
    assert decide(actor, replace(space, grants=expired), action, resource, now) == decide(
        actor, replace(space, grants=without), action, resource, now
    )


@SETTINGS
@given(scenarios(roles=st.just("app")))
def test_app_needs_its_connection_and_a_matching_scope(case):
    actor, space, action, resource, now = case
    decision = decide(actor, space, action, resource, now)
    if decision.allowed:
        assert actor.app_connected
        assert actor.patient_id == space.patient_id
        assert space.status in ("active", "auto_created")
        assert actor.scopes & SCOPES_FOR[(resource.kind, action)]
    disconnected = replace(actor, app_connected=False)
    assert not decide(disconnected, space, action, resource, now).allowed
    no_scope = replace(actor, scopes=frozenset())
    assert not decide(no_scope, space, action, resource, now).allowed


@SETTINGS
@given(scenarios())
def test_emergency_access_only_for_professionals_and_never_after_opt_out(case):
    actor, space, _, resource, now = case
    decision = decide(actor, space, "emergency_access", resource, now)
    if decision.allowed:
        assert actor.role == "professional"
        assert space.emergency_access_allowed
    opted_out = replace(space, emergency_access_allowed=False)
    assert not decide(actor, opted_out, "emergency_access", resource, now).allowed


@SETTINGS
@given(scenarios(roles=st.sampled_from(["patient", "app"]), kinds=st.just("document")))
def test_patient_side_never_touches_a_document_still_invisible(case):
    actor, space, action, resource, now = case
    if action == "create":
        return
    since = resource.invisible_since
    still = resource.invisible_to_patient and (since is None or now < since + timedelta(days=30))
    decision = decide(actor, space, action, resource, now)
    if still:
        assert not decision.allowed


@SETTINGS
@given(scenarios())
def test_nobody_acts_on_a_patient_space_that_is_not_theirs(case):
    actor, space, action, resource, now = case
    if actor.role in ("patient", "app") and actor.patient_id != space.patient_id:
        decision = decide(actor, space, action, resource, now)
        assert not decision.allowed
        assert decision.hide_existence or decision.reason in MALFORMED


@SETTINGS
@given(professionals(), st.sampled_from(["access_settings", "connection", "export"]))
def test_patient_only_kinds_are_never_open_to_professionals(case, kind):
    actor, space, action, resource, now = case
    assert not decide(actor, space, action, replace(resource, kind=kind), now).allowed


@SETTINGS
@given(professionals(), st.sampled_from(DOCUMENT_TYPES))
def test_profession_matrix_holds_for_other_peoples_documents(case, document_type):
    actor, space, _, resource, now = case
    resource = replace(resource, kind="document", document_type=document_type)
    if resource.author == ("professional", actor.id):
        return
    decision = decide(actor, space, "read", resource, now)
    if actor.profession == "pedicure_podologue" and document_type == "hospital_report":
        assert not decision.allowed
    if decision.allowed:
        assert actor.profession in PROFESSIONS
