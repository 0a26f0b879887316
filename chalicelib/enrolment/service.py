"""Opt-out enrolment (docs/domain.md § Enrolment, § Account lifecycle).

Every status change is one DynamoDB transaction: the account moves only from the status it was
read in, the campaign counters follow, and the activity event is appended. When two changes race
(an activation at the very moment the timer auto-creates), the loser re-reads and either applies
on top (auto_created → active is allowed) or gets a clean 409: never both, never lost.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import monotonic

from pydantic import ValidationError

from chalicelib.core import clock, logs
from chalicelib.core.data import concurrency, purge, spaces
from chalicelib.core.data.spaces import SpaceItems
from chalicelib.core.errors import Conflict, InvalidCode, InvalidRequest, NotFound, TooManyAttempts
from chalicelib.core.history import journal
from chalicelib.core.history.journal import StateChanged
from chalicelib.core.http.api import invalid_input
from chalicelib.core.ids import new_id
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import DELETE, READ, SPACE, Resource
from chalicelib.core.policy.gate import authorize, check
from chalicelib.core.security import pseudonyms
from chalicelib.core.security.auth import Principal
from chalicelib.enrolment import codes, deferred_notices, store
from chalicelib.enrolment.models import (
    Activated,
    AgentOpposition,
    Campaign,
    CampaignCreate,
    CampaignWithCounts,
    CodeAnswer,
    Counts,
    InvitationsRequest,
    InvitationsResult,
    Invitee,
    ItemError,
    Me,
    Rejected,
    StatusOnly,
)

NOT_INVITED = "You have not been invited to Mon espace santé yet."
WHOLE_SPACE = Resource(kind=SPACE)
MAX_FAILED_ATTEMPTS = 5
CODE_VALIDITY = timedelta(days=365)
TIMER = ActorRef(role="system", id="enrolment-timer")
WRONG_ANSWER = (
    "The code, the INS or the birth date is wrong, or the code has expired. Check the letter or email you received."
)

# Allowed moves, and what to tell a person who asks for another one.
TRANSITIONS = {
    "invited": {"active", "opposed", "auto_created"},
    "opposed": {"active"},
    "auto_created": {"active", "closed"},
    "active": {"closed"},
    "closed": set(),
}
# The statuses in which the provisional code can still move the account (to what an answer with it
# asks: activation or opposition): the lock guards it then only.
CODE_ANSWERS = {"active", "opposed"}
LIVE_CODE = tuple(status for status, moves in TRANSITIONS.items() if moves & CODE_ANSWERS)
REFUSALS = {
    ("active", "active"): "This space is already active.",
    ("closed", "active"): "This space has been closed and cannot be activated again.",
    (
        "auto_created",
        "opposed",
    ): "The space has already been created automatically: close it instead (POST /v1/me/close).",
    ("active", "opposed"): "The space is active: close it instead (POST /v1/me/close).",
    ("opposed", "opposed"): "The opposition is already recorded; activate the space if you changed your mind.",
    ("closed", "opposed"): "This space has been closed already.",
    ("invited", "closed"): "The space does not exist yet: oppose its creation instead.",
    ("opposed", "closed"): "You opposed the creation of the space: there is nothing to close.",
    ("closed", "closed"): "This space is already closed.",
}


def _refuse(current: str, wanted: str) -> Conflict:
    return Conflict(REFUSALS.get((current, wanted), f"A space that is {current} cannot become {wanted}."))


def move(
    account: dict,
    to_status: str,
    actor: ActorRef,
    action: str,
    extra_set: dict | None = None,
    with_code: bool = False,
    notice: dict | None = None,
) -> dict:
    """Applies one status change; on a lost race re-reads and tries again while the move is allowed.
    A move ``with_code`` (an answer with the provisional code) is refused once the code is locked;
    ``notice`` (deferred_notices.pending) is recorded with the change."""
    for _ in range(3):
        if with_code and _is_locked(account):
            raise _locked()
        if to_status not in TRANSITIONS[account["status"]]:
            raise _refuse(account["status"], to_status)
        writes = store.transition_items(account, to_status, extra_set, MAX_FAILED_ATTEMPTS if with_code else None)
        try:
            journal.commit(account["patient_id"], actor, action, writes=writes + ([notice] if notice else []))
            return {**account, "status": to_status, **(extra_set or {})}
        except StateChanged:
            account = spaces.get_account(account["patient_id"]) or account  # gone: its condition fails again
    raise Conflict("This space is changing right now; try again in a moment.")


# Campaigns and invitations --------------------------------------------------------------------


def _campaign(item: dict) -> Campaign:
    return Campaign(**{name: item[name] for name in Campaign.model_fields})


def create_campaign(request: CampaignCreate) -> Campaign:
    item = {"campaign_id": new_id("cmp"), "created_at": clock.iso(clock.now()), **request.model_dump()}
    store.put_campaign(item)
    return _campaign(item)


def get_campaign(campaign_id: str) -> CampaignWithCounts:
    item = store.get_campaign(campaign_id)
    if item is None:
        raise NotFound("No such campaign.")
    return CampaignWithCounts(**_campaign(item).model_dump(), counts=Counts(**store.counts(campaign_id)))


def _deadline(request: InvitationsRequest, campaign: dict):
    """The explicit deadline, or the end of the day response_days from now (UTC).

    Rounding the default up to the end of the day gives people a little more time, never less,
    and puts every invitations call of a campaign made the same day in one cohort.
    """
    now = clock.now()
    if request.deadline is None:
        day = (now + timedelta(days=int(campaign["response_days"]))).date()
        return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    if request.deadline <= now:
        raise InvalidRequest(
            "The deadline must be in the future.", [{"field": "deadline", "message": "Must be in the future."}]
        )
    return request.deadline.replace(microsecond=0)


def cohort_of(campaign_id: str, deadline: str) -> str:
    """A cohort is every person of a campaign sharing a deadline: one timer serves them all."""
    return "coh_" + hashlib.sha256(f"{campaign_id}|{deadline}".encode()).hexdigest()[:32]


def _start_timer(cohort_id: str, campaign: dict, deadline: datetime) -> None:
    remind_at = deadline - timedelta(days=int(campaign["reminder_days_before"]))
    timer_input = {"cohort_id": cohort_id, "remind_at": clock.iso(remind_at), "deadline": clock.iso(deadline)}
    # Named after the cohort, with an input that depends on the cohort only: starting it again
    # (a retry, or another invitations call joining the cohort) returns the running execution.
    if not store.start_timer(cohort_id, timer_input):
        raise Conflict("This cohort's timer has already ended: choose another deadline.")


ALREADY_INVITED = ItemError(code="already_enrolled", message="This person has already been invited.")


def invite(agent: ActorRef, campaign_id: str, request: InvitationsRequest) -> InvitationsResult:
    campaign = store.get_campaign(campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    deadline = _deadline(request, campaign)
    deadline_text = clock.iso(deadline)
    cohort_id = cohort_of(campaign_id, deadline_text)
    # The timer starts first: a crash half-way leaves invited people with their timer running.
    _start_timer(cohort_id, campaign, deadline)
    rejected, valid, seen = [], [], set()
    for index, raw in enumerate(request.invitees):
        try:
            invitee = Invitee.model_validate(raw)
        except ValidationError as error:
            problem = invalid_input(error, "")
            message = "; ".join(f"{d['field']}: {d['message']}" for d in problem.details or [])
            rejected.append(Rejected(index=index, error=ItemError(code=problem.code, message=message)))
            continue
        digest = pseudonyms.ins_digest(invitee.ins)
        if digest in seen:
            rejected.append(Rejected(index=index, error=ALREADY_INVITED))
        else:
            seen.add(digest)
            valid.append((index, invitee, digest))
    # Each person is one transaction and one notice, independent of the others: side by side,
    # a 500-person call waits on ~2 × 500 / WORKERS round trips instead of 2 × 500.
    invited = concurrency.map_concurrently(
        lambda person: _invite_one(agent, campaign_id, cohort_id, deadline_text, person[1], person[2]), valid
    )
    rejected += [
        Rejected(index=index, error=ALREADY_INVITED) for (index, _, _), ok in zip(valid, invited, strict=True) if not ok
    ]
    rejected.sort(key=lambda r: r.index)
    accepted = sum(invited)
    logs.info("invitations", campaign_id=campaign_id, cohort_id=cohort_id, accepted=accepted, rejected=len(rejected))
    return InvitationsResult(cohort_id=cohort_id, deadline=deadline_text, accepted=accepted, rejected=rejected)


def _representatives(invitee: Invitee) -> list[dict]:
    """A minor's legal representatives as the account keeps them: each under their own person id
    (their patient_id if they have a space, or get one), found by the digest of their INS."""
    people = []
    for person in invitee.representatives or []:
        digest = pseudonyms.ins_digest(person.ins)
        people.append(
            {
                "person_id": spaces.person_id_for(digest),
                "ins_digest": digest,
                **person.model_dump(mode="json", exclude={"ins"}, exclude_none=True),
            }
        )
    return people


def _invite_one(
    agent: ActorRef, campaign_id: str, cohort_id: str, deadline: str, invitee: Invitee, digest: str
) -> bool:
    """Creates the account with its invitation pending in one transaction, then sends it: the
    code, of which only a keyed hash is kept, reaches the person even if the function dies
    in between (deferred_notices)."""
    representatives = _representatives(invitee)
    code = codes.new_code()

    def invitation_items(account: dict, new_person: bool = True) -> list[dict]:
        return [
            *store.invitation_items(account, new_person),
            deferred_notices.pending(account, "enrolment.invitation", code, deadline),
        ]

    account = _new_account(new_id("pat"), campaign_id, cohort_id, deadline, invitee, digest, code, representatives)
    try:
        journal.commit(
            account["patient_id"], agent, "enrolment.invited", writes=invitation_items(account), new_space=True
        )
    except StateChanged:
        # Someone's representative or guardian already has a person id but no space: it becomes theirs.
        known = spaces.patient_id_for(digest)
        if known is None or spaces.get_account(known) is not None:
            return False
        account = _new_account(known, campaign_id, cohort_id, deadline, invitee, digest, code, representatives)
        try:
            journal.commit(
                known, agent, "enrolment.invited", writes=invitation_items(account, new_person=False), new_space=True
            )
        except StateChanged:
            return False
    deferred_notices.send(account, "enrolment.invitation", code, deadline)
    return True


def _new_account(
    patient_id: str,
    campaign_id: str,
    cohort_id: str,
    deadline: str,
    invitee: Invitee,
    digest: str,
    code: str,
    representatives: list[dict],
) -> dict:
    now = clock.now()
    account = {
        "patient_id": patient_id,
        "status": "invited",
        "ins": invitee.ins,
        "ins_digest": digest,
        "family_name": invitee.family_name,
        "given_names": invitee.given_names,
        "birth_date": invitee.birth_date.isoformat(),
        "email": invitee.email,
        "postal_address": invitee.postal_address,
        "campaign_id": campaign_id,
        "cohort_id": cohort_id,
        "deadline": deadline,
        "invited_at": clock.iso(now),
        "code_digest": pseudonyms.code_digest(codes.normalize(code), patient_id),
        "code_expires_at": clock.iso(now + CODE_VALIDITY),
        "failed_attempts": 0,
        "representatives": representatives or None,
        **store.cohort_index_keys(cohort_id, patient_id),
    }
    return {name: value for name, value in account.items() if value is not None}


# Answers with the provisional code ------------------------------------------------------------


def _locked() -> TooManyAttempts:
    return TooManyAttempts("Too many wrong attempts: this code is locked. Contact your health insurance fund (CPAM).")


def _find(ins: str, birth_date) -> dict | None:
    patient_id = spaces.patient_id_for(pseudonyms.ins_digest(ins))
    account = spaces.get_account(patient_id) if patient_id else None
    if account is None or account["birth_date"] != birth_date.isoformat():
        return None
    return account


def _is_locked(account: dict) -> bool:
    return account["status"] in LIVE_CODE and int(account.get("failed_attempts", 0)) >= MAX_FAILED_ATTEMPTS


def _check_code(answer: CodeAnswer) -> dict:
    """The account the answer unlocks, or the same refusal whatever was wrong.

    The lock bounds the guesses at one live code: a wrong answer to it is counted, and a right one
    moves the account, each in one write conditional on fewer than MAX_FAILED_ATTEMPTS counted, so
    whatever the parallelism no more than that many wrong answers are ever written before the
    lock, and a right answer is never counted (racing right answers: one wins, the others 409).
    Once the space is active or closed the code is used: answers to it are never counted.

    An INS without a code of its own (unknown, or a representative's or guardian's person id)
    answers as a wrong code does, every time, and never locks: there is no code to guess, and
    counting there would store a count for any INS anyone types (and could lock a person before
    they are even invited). A real invitee's lock tells only what 5 wrong answers to their own
    code earn, and what the contract promises them (docs/api.md § Errors: 5 wrong codes → 429)."""
    patient_id = spaces.patient_id_for(pseudonyms.ins_digest(answer.ins))
    account = spaces.get_account(patient_id) if patient_id else None
    if patient_id is None or account is None or "code_digest" not in account:
        raise InvalidCode(WRONG_ANSWER)
    if _is_locked(account):
        raise _locked()
    given = pseudonyms.code_digest(codes.normalize(answer.code), patient_id)
    right = (
        hmac.compare_digest(account["code_digest"], given)
        and account["birth_date"] == answer.birth_date.isoformat()
        and clock.parse_iso(account["code_expires_at"]) > clock.now()
    )
    if right:
        return account
    if (
        account["status"] in LIVE_CODE
        and not store.count_failed_attempt(store.account_key(patient_id), LIVE_CODE, MAX_FAILED_ATTEMPTS)
        and _is_locked(spaces.get_account(patient_id) or account)  # locked in the meantime (else the code was used)
    ):
        raise _locked()
    raise InvalidCode(WRONG_ANSWER)


def _answer(answer: CodeAnswer, to_status: str, action: str, changes: dict) -> dict:
    account = _check_code(answer)
    return move(account, to_status, ActorRef(role="patient", id=account["patient_id"]), action, changes, with_code=True)


def activate(answer: CodeAnswer) -> Activated:
    account = _answer(answer, "active", "enrolment.activated", {"activated_at": clock.iso(clock.now())})
    return Activated(patient_id=account["patient_id"], status="active")


def oppose(answer: CodeAnswer) -> StatusOnly:
    _answer(
        answer, "opposed", "enrolment.opposed", {"opposed_at": clock.iso(clock.now()), "opposition_channel": "online"}
    )
    return StatusOnly(status="opposed")


def oppose_for(agent: ActorRef, request: AgentOpposition) -> StatusOnly:
    account = _find(request.ins, request.birth_date)
    if account is None:
        raise NotFound("Nobody with this INS and birth date has been invited.")
    changes = {"opposed_at": clock.iso(clock.now()), "opposition_channel": request.channel}
    move(account, "opposed", agent, "enrolment.opposed", changes)
    return StatusOnly(status="opposed")


# The person's own account ---------------------------------------------------------------------


def own_account(principal: Principal) -> dict:
    patient_id = spaces.patient_id_for(pseudonyms.ins_digest(principal.ins))
    account = spaces.get_account(patient_id) if patient_id else None
    if account is None:
        raise NotFound(NOT_INVITED)
    return account


def me(principal: Principal) -> Me:
    account = own_account(principal)
    check(principal, SpaceItems(account=account), READ, WHOLE_SPACE)  # a minor's own login: 403
    return Me(
        patient_id=account["patient_id"],
        status=account["status"],
        family_name=account["family_name"],
        given_names=account["given_names"],
        birth_date=account["birth_date"],
        deadline=account.get("deadline") if account["status"] == "invited" else None,
    )


def close(principal: Principal, delete_now: bool, patient_id: str | None = None) -> dict:
    """Closing stops professional access at once (the policy opens nothing on a closed space);
    ``delete_now`` also asks every module to delete what it holds in the space (core.data.purge: each
    module in its own function), each deletion in the history. Asking again on a closed space
    whose deletion was requested sends the request again (e.g. after a failure to send it).

    ``patient_id``: the space to close, for a representative or guardian closing a dependant's
    (the caller's own space otherwise); the policy decides who may."""
    if patient_id is None:
        patient_id = spaces.patient_id_for(pseudonyms.ins_digest(principal.ins))
        if patient_id is None:
            raise NotFound(NOT_INVITED)
    granted = authorize(principal, patient_id, DELETE, WHOLE_SPACE)
    account, actor = granted.items.account, granted.actor_ref
    if account["status"] == "closed" and delete_now and account.get("delete_requested"):
        purge.request(account["patient_id"], actor)
        return account
    changes = {"closed_at": clock.iso(clock.now()), "delete_requested": delete_now}
    closed = move(account, "closed", actor, "account.closed", changes)
    if delete_now:
        purge.request(account["patient_id"], actor)
    return closed


# The cohort timer (one Step Functions execution per cohort feeds these) -----------------------


@dataclass
class ShardStep:
    """One run of a timer step on one shard of a cohort (events.dispatch builds it)."""

    cohort_id: str
    shard: int
    cursor: dict | None = None  # where the previous run stopped
    stop_at: float | None = None  # monotonic time after which the run hands the rest over


@dataclass
class Progress:
    done: int  # people reminded, or spaces created, by this run
    cursor: dict | None  # where the next run resumes; None once the shard is handled


def _walk_shard(step: ShardStep, handle: Callable[[dict], bool]) -> Progress:
    """Applies ``handle`` (True when it acted) to the shard's members from the step's cursor, a
    page at a time, the members of a page side by side; returns after the page during which the
    monotonic clock passed the step's ``stop_at``, so a shard of any size spans several runs."""
    done, cursor = 0, step.cursor
    while True:
        members, cursor = store.cohort_page(step.cohort_id, step.shard, cursor)
        done += sum(concurrency.map_concurrently(handle, members))
        if cursor is None or (step.stop_at is not None and monotonic() >= step.stop_at):
            return Progress(done, cursor)


def remind_shard(step: ShardStep, remind_at: str) -> Progress:
    """Reminds those still invited; people invited after the reminder time just got their letter."""

    def remind(member: dict) -> bool:
        if member["status"] != "invited" or member["invited_at"] > remind_at:
            return False
        notice = deferred_notices.pending(member, "enrolment.reminder", member["deadline"])
        if not store.mark_reminded(member["patient_id"], clock.iso(clock.now()), notice):
            return False  # a duplicate run got there first
        deferred_notices.send(member, "enrolment.reminder", member["deadline"])
        return True

    progress = _walk_shard(step, remind)
    logs.info(
        "cohort reminded",
        cohort_id=step.cohort_id,
        shard=step.shard,
        reminded=progress.done,
        finished=progress.cursor is None,
    )
    return progress


def auto_create_shard(step: ShardStep) -> Progress:
    def auto_create(member: dict) -> bool:
        if member["status"] != "invited":
            return False
        now = clock.iso(clock.now())
        try:
            notice = deferred_notices.pending(member, "enrolment.auto_created", now)
            move(member, "auto_created", TIMER, "enrolment.auto_created", {"auto_created_at": now}, notice=notice)
        except Conflict:
            return False  # the person answered first: their choice stands
        deferred_notices.send(member, "enrolment.auto_created", now)
        return True

    progress = _walk_shard(step, auto_create)
    logs.info(
        "cohort auto-created",
        cohort_id=step.cohort_id,
        shard=step.shard,
        created=progress.done,
        finished=progress.cursor is None,
    )
    return progress
