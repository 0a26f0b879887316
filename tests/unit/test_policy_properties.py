"""Access policy: properties that must hold for every actor x space x resource x action x time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.policy.decision import (
    ALLOW_REASONS,
    REGULATION,
    Actor,
    Caregiving,
    Representation,
    Resource,
    Space,
    decide,
)
from tests.examples import examples

SETTINGS = settings(max_examples=examples(300), deadline=None)

ROLES = [
    "patient",
    "professional",
    "app",
    "caregiver",
    "enrolment_agent",
    "catalogue_admin",
    "migration_operator",
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
    "emergency_summary",
    "caregiving",
]
ACTIONS = [
    "read",
    "create",
    "update",
    "delete",
    "mask",
    "release",
    "disclose",
    "manage_access",
    "emergency_access",
    "regulation_access",
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
    "advance_directives",
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

NOW_BASE = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
DAY = 24 * 60
# Offsets from "now", in minutes, concentrated on the boundaries that matter (expiry == now, the
# 30 days of invisibility).
OFFSETS = [
    *(-45 * DAY, -31 * DAY, -30 * DAY - 1, -30 * DAY, -30 * DAY + 1),
    *(-DAY, -1, 0, 1, DAY, 30 * DAY),
]
offsets = st.sampled_from(OFFSETS).map(lambda m: timedelta(minutes=m))

ID_POOLS = {"professional": RPPS, "patient": PATIENTS, "app": APPS}
CRUD = ["read", "create", "update", "delete"]
# Requests an endpoint could make (most draws), so that allowed decisions are common enough.
MEANINGFUL = (
    [("document", a) for a in [*CRUD, "mask", "release", "disclose"]]
    + [(k, a) for k in ("profile", "measurement", "agenda") for a in CRUD]
    + [("activity", "read"), ("export", "read")]
    + [(k, a) for k in ("access_settings", "connection") for a in [*CRUD, "manage_access"]]
    + [("conversation", a) for a in ("read", "create", "message")]
    + [("space", a) for a in ("read", "update", "delete", "manage_access", "message")]
    + [("space", "emergency_access"), ("space", "regulation_access"), ("space", "search")] * 3
    + [("emergency_summary", "read")] * 3
)
ANY_PAIRS = [(k, a) for k in [*KINDS, "bogus"] for a in [*ACTIONS, "bogus"]]
# about one draw in six is any pair at all, malformed ones included
PAIRS = st.sampled_from(MEANINGFUL * 12 + ANY_PAIRS)
DOCUMENT_PAIRS = st.sampled_from([("document", a) for a in [*CRUD, "mask", "release", "disclose"]])
APP_PAIRS = st.sampled_from(sorted(SCOPES_FOR) * 12 + MEANINGFUL * 2 + ANY_PAIRS)
# The roles that may be allowed something are drawn more often.
WEIGHTED_ROLES = ["patient"] * 3 + ["professional"] * 4 + ["app"] * 3 + ROLES
MOSTLY_TRUE = [True, True, True, False]
CHOICES = 48  # bytes drawn per scenario (build uses at most 41)


class Picks:
    """Every other field of a scenario comes from one drawn byte string, one byte per choice:
    a single draw per example keeps 300 examples per property fast (shrinks toward index 0)."""

    def __init__(self, raw: bytes):
        self.raw, self.at = raw, 0

    def byte(self) -> int:
        value = self.raw[self.at]
        self.at += 1
        return value

    def one(self, options):
        return options[self.byte() % len(options)]

    def subset(self, pool, weights=(1, 2)):
        """Each item kept when its byte falls in the first weights[0] of weights[1] slots."""
        keep, out_of = weights
        return frozenset(item for item in pool if self.byte() % out_of < keep)

    def moments(self, now, pool):
        """Per item: absent, no expiry, or now + one of OFFSETS."""
        out: dict[str, Any] = {}
        for item in pool:
            code = self.byte() % (len(OFFSETS) + 2)
            if code == 1:
                out[item] = None
            elif code > 1:
                out[item] = now + timedelta(minutes=OFFSETS[code - 2])
        return out


def build(role, pair, raw):
    p = Picks(raw)
    kind, action = pair
    now = NOW_BASE + timedelta(minutes=p.byte() * 7919)
    patient_id = p.one(["P1", "P1", "P1", "P2", None])
    actor_id = patient_id if role == "patient" and patient_id else p.one(ID_POOLS.get(role, IDS))
    actor = Actor(
        role=role,
        id=actor_id,
        profession=p.one(PROFESSIONS * 2 + [None, "astrologue"]),
        patient_id=patient_id,
        scopes=p.subset(SCOPES),
        app_connected=p.one(MOSTLY_TRUE),
        regulation=p.one([False, False, True]),
    )
    own = p.one(MOSTLY_TRUE) and patient_id is not None  # most act on their own space
    space = Space(
        patient_id=patient_id if own else p.one(["P1", "P1", "P1", "P2"]),
        status=p.one(["active"] * 5 + ["auto_created"] * 2 + STATUSES),
        treating_doctor=p.one([*RPPS, None]),
        emergency_access_allowed=p.one(MOSTLY_TRUE),
        grants=p.moments(now, RPPS),
        blocked=p.subset(RPPS, weights=(1, 5)),
        emergency_sessions={k: v for k, v in p.moments(now, RPPS).items() if v is not None},
        regulation_access_allowed=p.one(MOSTLY_TRUE),
        regulation_sessions={k: v for k, v in p.moments(now, RPPS).items() if v is not None},
    )
    author_role = p.one([None, "professional", "patient", "app"])
    author_pool = ID_POOLS.get(author_role, IDS)
    since = p.one([None, *OFFSETS])
    resource = Resource(
        kind=kind,
        document_type=p.one([*DOCUMENT_TYPES, None]),
        author=None if author_role is None else (author_role, p.one(author_pool)),
        masked=p.one([False, True]),
        invisible_to_patient=p.one([False, True]),
        invisible_since=None if since is None else now + timedelta(minutes=since),
    )
    return actor, space, action, resource, now


WEIGHTED_ROLE = st.sampled_from(WEIGHTED_ROLES)


def scenarios(roles=WEIGHTED_ROLE, pairs=PAIRS):
    return st.builds(build, roles, pairs, st.binary(min_size=CHOICES, max_size=CHOICES))


MALFORMED = {"unknown_action", "unknown_kind", "unsupported_action"}  # programming errors


def professionals():
    return scenarios(roles=st.just("professional"))


def valid_grant(space: Space, rpps: str, now: datetime) -> bool:
    expiry = space.grants.get(rpps)
    return rpps in space.grants and (expiry is None or expiry > now)


@SETTINGS
@given(scenarios())
def test_decision_is_deterministic_and_consistent(case):
    actor, space, action, resource, now = case
    first = decide(actor, space, action, resource, now)
    assert decide(actor, space, action, resource, now) == first
    assert first.allowed == (first.reason in ALLOW_REASONS)
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
@given(scenarios(roles=st.sampled_from(["enrolment_agent", "catalogue_admin", "migration_operator"])))
def test_agents_and_catalogue_admins_never_reach_health_data(case):
    actor, space, action, resource, now = case
    assert not decide(actor, space, action, resource, now).allowed


@SETTINGS
@given(scenarios(roles=st.sampled_from(["patient", "professional", "app"]), pairs=DOCUMENT_PAIRS))
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
def test_occupational_doctor_only_ever_acts_through_a_grant(case):
    actor, space, action, resource, now = case
    actor = replace(actor, profession="medecin_du_travail")
    space = replace(space, treating_doctor=actor.id)  # being the treating doctor does not count
    decision = decide(actor, space, action, resource, now)
    assert decision.reason not in {"treating_doctor", "emergency_session", "emergency_access"}
    if decision.allowed:
        assert valid_grant(space, actor.id, now)


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
@given(scenarios(roles=st.just("app"), pairs=APP_PAIRS))
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
@given(professionals())
def test_an_emergency_session_stops_counting_once_the_patient_opts_out(case):
    actor, space, action, resource, now = case
    opted_out = replace(space, emergency_access_allowed=False)
    assert decide(actor, opted_out, action, resource, now).reason != "emergency_session"
    # a session is only ever the reason while it is open
    decision = decide(actor, space, action, resource, now)
    if decision.reason == "emergency_session":
        assert space.emergency_sessions[actor.id] > now


@SETTINGS
@given(scenarios(roles=st.sampled_from(["patient", "app"]), pairs=DOCUMENT_PAIRS))
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


# --- families ------------------------------------------------------------------------------------
# Holders' ages in days around the 18th birthday (the day before, of, after) and far from it.
AGE_DAYS = [0, 365, 9 * 365, 18 * 365 - 1, 18 * 365 + 3, 18 * 365 + 4, 18 * 365 + 5, 18 * 365 + 6, 40 * 365]
RELATIONSHIPS = ["legal_representative", "guardian"]
END_OFFSETS = [None, -400, -1, 0, 1, 400]  # a guardianship's end, in days from today
PEOPLE = ["R1", "R2"]
FAMILY_CHOICES = 12  # bytes build_family draws after build's (at most 9)


def age(birth: date, today: date) -> int:
    """Whole years lived, written independently of the policy."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def build_family(pair, raw):
    """A representative (R1) acting on a space whose holder is of any age, named there under any
    relationship (or not at all), on any resource, hidden or not."""
    actor, space, action, resource, now = build("representative", pair, raw[:CHOICES])
    p = Picks(raw[CHOICES:])
    birth = now.date() - timedelta(days=p.one(AGE_DAYS) + p.byte() % 3)
    representations = tuple(
        Representation(
            person,
            p.one(RELATIONSHIPS),
            None if (end := p.one(END_OFFSETS)) is None else now.date() + timedelta(days=end),
        )
        for person in PEOPLE
        if p.one(MOSTLY_TRUE)
    )
    actor = Actor(role="representative", id="R1")
    space = replace(space, birth_date=birth, representations=representations)
    resource = replace(resource, hidden_from_representatives=p.one([False, True]))
    return actor, space, action, resource, now


def family_scenarios(pairs=PAIRS):
    return st.builds(
        build_family, pairs, st.binary(min_size=CHOICES + FAMILY_CHOICES, max_size=CHOICES + FAMILY_CHOICES)
    )


@SETTINGS
@given(family_scenarios())
def test_a_representative_never_reaches_a_hidden_document_or_its_events(case):
    actor, space, action, resource, now = case
    for kind in ("document", "activity"):  # reading, listing, counting, exporting: each asks this
        hidden = replace(resource, kind=kind, hidden_from_representatives=True)
        decision = decide(actor, space, action, hidden, now)
        assert not decision.allowed
        if action != "create" and decision.reason in ("hidden_from_representatives",):
            assert decision.hide_existence  # 404: it does not exist for them


@SETTINGS
@given(family_scenarios())
def test_after_majority_a_legal_representative_is_denied_everything(case):
    actor, space, action, resource, now = case
    space = replace(
        space, representations=tuple(replace(r, relationship="legal_representative") for r in space.representations)
    )
    if age(space.birth_date, now.date()) >= 18:
        assert not decide(actor, space, action, resource, now).allowed


@SETTINGS
@given(family_scenarios(), st.integers(0, 400))
def test_a_guardian_past_the_end_date_is_denied_everything(case, days_ago):
    actor, space, action, resource, now = case
    ended = now.date() - timedelta(days=days_ago)  # the end came today or earlier
    space = replace(
        space, representations=tuple(replace(r, relationship="guardian", until=ended) for r in space.representations)
    )
    assert not decide(actor, space, action, resource, now).allowed


@SETTINGS
@given(family_scenarios())
def test_a_representative_acts_only_through_a_relationship_that_holds(case):
    actor, space, action, resource, now = case
    decision = decide(actor, space, action, resource, now)
    if decision.allowed:
        mine = [r for r in space.representations if r.person_id == actor.id]
        minor = age(space.birth_date, now.date()) < 18
        assert any(
            (r.relationship == "legal_representative" and minor)
            or (r.relationship == "guardian" and not minor and (r.until is None or now.date() < r.until))
            for r in mine
        )
        assert not resource.hidden_from_representatives
    unnamed = replace(space, representations=tuple(r for r in space.representations if r.person_id != actor.id))
    assert not decide(actor, unnamed, action, resource, now).allowed


@SETTINGS
@given(scenarios(roles=st.just("patient")), st.sampled_from(AGE_DAYS))
def test_a_minors_own_login_reaches_nothing(case, days):
    actor, space, action, resource, now = case
    space = replace(space, birth_date=now.date() - timedelta(days=days))
    if age(space.birth_date, now.date()) < 18:
        assert not decide(actor, space, action, resource, now).allowed


@SETTINGS
@given(professionals(), st.sampled_from(AGE_DAYS))
def test_the_secret_changes_nothing_for_professionals_but_where_it_may_be_set(case, days):
    actor, space, action, resource, now = case
    space = replace(space, birth_date=now.date() - timedelta(days=days))
    plain = decide(actor, space, action, replace(resource, hidden_from_representatives=False), now)
    hidden = decide(actor, space, action, replace(resource, hidden_from_representatives=True), now)
    if hidden != plain:  # only a deposit on an adult's space is refused, as a bad request
        assert action == "create" and resource.kind == "document" and age(space.birth_date, now.date()) >= 18
        assert hidden.reason == "hidden_only_for_minors" and plain.allowed


# --- the emergency pathway (docs/domain.md § Emergency pathway) ----------------------------------


@SETTINGS
@given(scenarios(roles=st.just("professional")), st.integers(min_value=0, max_value=3 * 60 * 60))
def test_a_regulators_access_ends_at_one_hour(case, elapsed):
    """A regulator whose only way in is the session they opened at ``opened`` (its end the policy's
    hour after) reads until, and only until, one hour has passed."""
    actor, space, _, resource, opened = case
    regulator = replace(actor, profession="medecin", regulation=True)
    alone = replace(
        space,
        status="active",
        treating_doctor=None,
        grants={},
        blocked=frozenset(),
        emergency_sessions={},
        regulation_access_allowed=True,
        regulation_sessions={regulator.id: opened + REGULATION.duration},
    )
    assert REGULATION.duration == timedelta(hours=1)
    now = opened + timedelta(seconds=elapsed)
    for kind in ("profile", "measurement", "emergency_summary"):
        decision = decide(regulator, alone, "read", Resource(kind), now)
        assert decision.allowed == (elapsed < 3600), (kind, elapsed, decision)
    document = decide(regulator, alone, "read", replace(resource, kind="document", author=None), now)
    if elapsed >= 3600:
        assert not document.allowed
    # read access only: a regulator's session never lets them add to the record
    assert not decide(regulator, alone, "create", Resource("profile"), now).allowed


@SETTINGS
@given(scenarios())
def test_a_regulation_session_is_the_reason_only_while_open_for_a_regulator(case):
    actor, space, action, resource, now = case
    decision = decide(actor, space, action, resource, now)
    if decision.reason in ("regulation_session", "regulation_access"):
        assert actor.role == "professional" and actor.regulation and actor.profession == "medecin"
        assert space.regulation_access_allowed
    if decision.reason == "regulation_session":
        assert action == "read" and space.regulation_sessions[actor.id] > now


@SETTINGS
@given(scenarios())
def test_opposing_one_emergency_never_changes_the_other(case):
    actor, space, action, resource, now = case
    decision = decide(actor, space, action, resource, now)
    glass_opposed = replace(space, emergency_access_allowed=not space.emergency_access_allowed)
    regulation_opposed = replace(space, regulation_access_allowed=not space.regulation_access_allowed)
    # opening one pathway does not depend on the choice about the other
    for opened, other in (("regulation_access", glass_opposed), ("emergency_access", regulation_opposed)):
        assert decide(actor, other, opened, resource, now) == decide(actor, space, opened, resource, now)
    # nor does reading through one pathway's session
    if decision.reason == "regulation_session":
        assert decide(actor, glass_opposed, action, resource, now) == decision
    if decision.reason == "emergency_session":
        assert decide(actor, regulation_opposed, action, resource, now) == decision


@SETTINGS
@given(scenarios(roles=st.sampled_from(["patient", "professional", "app", "insurer"])))
def test_the_summary_is_read_by_whoever_reads_the_profile_but_apps(case):
    """The emergency summary's readers: those who read the record's profile for the patient or with
    read access (break-glass and regulation sessions included), never an app."""
    actor, space, _, _, now = case
    summary = decide(actor, space, "read", Resource("emergency_summary"), now)
    if actor.role == "app":
        assert not summary.allowed
    else:
        assert summary == decide(actor, space, "read", Resource("profile"), now)
    for action in ("create", "update", "delete"):
        assert not decide(actor, space, action, Resource("emergency_summary"), now).allowed


# --- caregivers -----------------------------------------------------------------------------------
# The patient's own decisions, written independently of the policy (docs/domain.md § Caregivers).
NEVER_A_CAREGIVERS = {"mask", "delete", "manage_access", "message", "release", "disclose"}
PATIENTS_DECISIONS = {"access_settings", "connection", "export", "conversation"}


CAREGIVER_SETTINGS = settings(max_examples=examples(1000), deadline=None)
CAREGIVER_PAIRS = st.sampled_from(MEANINGFUL + [("caregiving", a) for a in ("read", "create", "delete")] * 3)
ADULT_MOSTLY = [40 * 365] * 4 + AGE_DAYS


def _helping(case, active, days, status):
    actor, space, action, resource, now = case
    others = (Caregiving("R1", active=True),) if actor.id != "R1" else ()
    space = replace(
        space,
        status=status or space.status,
        birth_date=now.date() - timedelta(days=days),
        caregivers=(Caregiving(actor.id, active), *others),
    )
    return actor, space, action, resource, now


def caregivers(pairs=CAREGIVER_PAIRS):
    """A caregiver named on the space, their caregiving active (mostly) or not, on a space of any
    age (mostly an adult's), open (mostly) or in any status."""
    return st.builds(
        _helping,
        scenarios(roles=st.just("caregiver"), pairs=pairs),
        st.sampled_from(MOSTLY_TRUE),
        st.sampled_from(ADULT_MOSTLY),
        st.sampled_from(["active", None]),
    )


@CAREGIVER_SETTINGS
@given(caregivers(), st.booleans())
def test_a_caregiver_never_decides_in_the_patients_place(case, own):
    """Never masks, deletes, changes a setting, exports, messages or closes, whatever the action:
    the one deletion is of their own caregiving (leaving)."""
    actor, space, action, resource, now = case
    if own:
        resource = replace(resource, author=("caregiver", actor.id))
    decision = decide(actor, space, action, resource, now)
    if not decision.allowed:
        return
    leaving = action == "delete" and resource.kind == "caregiving" and resource.author == ("caregiver", actor.id)
    assert action not in NEVER_A_CAREGIVERS or leaving
    assert resource.kind not in PATIENTS_DECISIONS
    assert resource.kind != "space" or action == "read"
    assert resource.kind != "caregiving" or action in ("read", "delete")


@CAREGIVER_SETTINGS
@given(caregivers())
def test_a_caregiver_sees_nothing_the_patient_does_not(case):
    actor, space, action, resource, now = case
    if decide(actor, space, action, resource, now).allowed:
        holder = Actor("patient", space.patient_id, patient_id=space.patient_id)
        mine = (
            replace(resource, author=("patient", space.patient_id))
            if resource.author == (actor.role, actor.id)
            else resource
        )
        assert decide(holder, space, action, mine, now).allowed
        assert any(c.person_id == actor.id and c.active for c in space.caregivers)
        assert age(space.birth_date, now.date()) >= 18


@CAREGIVER_SETTINGS
@given(caregivers())
def test_a_caregiving_ended_or_only_invited_opens_nothing(case):
    actor, space, action, resource, now = case
    ended = replace(
        space, caregivers=tuple(replace(c, active=False) if c.person_id == actor.id else c for c in space.caregivers)
    )
    assert not decide(actor, ended, action, resource, now).allowed
    gone = replace(space, caregivers=tuple(c for c in space.caregivers if c.person_id != actor.id))
    assert not decide(actor, gone, action, resource, now).allowed
