"""The cohort timer for real: the state machine executes in moto, feeds the timer queue, and the
queue's handler is invoked as the Lambda event source would. Its Wait states wait for a clock the
tests move (``timer_clock``) rather than for real seconds: a deadline is reached when a test says
so, however long the steps before it took."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.core import clock
from chalicelib.core.settings import settings
from chalicelib.enrolment import events
from chalicelib.enrolment.store import COHORT_SHARDS
from devstack.outbox import sent
from devstack.workers import drain_timers
from tests.conftest import invitee


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


class TimerClock:
    """The clock of the state machines' Wait states: an execution waiting for a timestamp goes on
    once the test has moved this clock past it (``reach``); moto runs everything else as before."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)
        self.moved = threading.Condition()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def reach(self, timestamp: str) -> None:
        with self.moved:
            self.ahead = max(self.ahead, clock.parse_iso(timestamp) - datetime.now(UTC))
            self.moved.notify_all()

    def wait(self, wait_function, env) -> None:
        """In place of moto's Wait for a timestamp: its seconds left, counted on this clock."""
        until = datetime.now(UTC) + timedelta(seconds=wait_function._get_wait_seconds(env))
        with self.moved:
            while env.is_running() and self.now() < until:
                self.moved.wait(timeout=1)  # and look again whether the execution was stopped


@pytest.fixture(autouse=True)
def timer_clock(monkeypatch) -> TimerClock:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

    timer = TimerClock()
    monkeypatch.setattr(Timestamp, "_eval_body", lambda wait_function, env: timer.wait(wait_function, env))
    return timer


def _executions() -> list[dict]:
    sfn = boto3.client("stepfunctions", region_name="eu-west-3")
    return sfn.list_executions(stateMachineArn=settings().enrolment_state_machine_arn)["executions"]


def _run_timer(timer: TimerClock, cohort_id: str, deadline: str, timeout: float = 90) -> None:
    """Moves the clock to the cohort's deadline, waits for its execution to end, then delivers
    what it queued."""
    timer.reach(deadline)
    sfn = boto3.client("stepfunctions", region_name="eu-west-3")
    arn = next(e["executionArn"] for e in _executions() if e["name"] == cohort_id)
    give_up_at = time.monotonic() + timeout
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < give_up_at, "the cohort's execution did not finish"
        time.sleep(0.05)
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    drain_timers()


def _answer(api, enrolment, person, endpoint):
    body = {"ins": person["ins"], "birth_date": person["birth_date"], "code": enrolment.code_of(person)}
    return api.post(f"/v1/enrolment/{endpoint}", body)


@pytest.mark.volume
def test_cohort_of_1000(api, enrolment, timer_clock):
    campaign = enrolment.campaign(reminder_days_before=0)
    people = [invitee(n) for n in range(1000)]
    deadline = _in(3600)
    started = time.monotonic()
    first = enrolment.invite(campaign, people[:500], deadline=deadline)
    second = enrolment.invite(campaign, people[500:], deadline=deadline)
    print("invited 1000 in", time.monotonic() - started)
    assert first["cohort_id"] == second["cohort_id"] and first["accepted"] == second["accepted"] == 500
    assert len(_executions()) == 1, "one execution per cohort, not per person"
    for person in people[:150]:
        assert _answer(api, enrolment, person, "activate").status_code == 200
    for person in people[150:250]:
        assert _answer(api, enrolment, person, "oppose").status_code == 200
    print("answered 250 at", time.monotonic() - started)

    _run_timer(timer_clock, first["cohort_id"], first["deadline"])

    counts = api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"]
    assert counts == {"invited": 0, "active": 150, "opposed": 100, "auto_created": 750, "closed": 0}
    silent = people[999]
    assert api.get("/v1/me", token=enrolment.patient_token(silent)).json_body["status"] == "auto_created"
    notices = [n["subject"] for n in sent(to=silent["email"])]
    assert notices == [
        "Votre profil Mon espace santé",
        "Rappel : Mon espace santé",
        "Votre espace Mon espace santé a été créé",
    ]
    assert [n["subject"] for n in sent(to=people[0]["email"])] == ["Votre profil Mon espace santé"]
    # An auto-created space can still be activated with the code; opposing is refused.
    assert _answer(api, enrolment, silent, "oppose").status_code == 409
    assert _answer(api, enrolment, silent, "activate").status_code == 200


def test_answers_racing_the_deadline_win_or_lose_cleanly(api, enrolment, timer_clock):
    """People answer while the timer auto-creates: each ends in exactly one coherent state."""
    from chalicelib.core.errors import ApiError
    from chalicelib.enrolment import service
    from chalicelib.enrolment.models import CodeAnswer

    campaign = enrolment.campaign(reminder_days_before=0)
    people = [invitee(2000 + n) for n in range(40)]
    invited = enrolment.invite(campaign, people, deadline=_in(3600))
    answers = [CodeAnswer(ins=p["ins"], birth_date=p["birth_date"], code=enrolment.code_of(p)) for p in people]
    outcomes: dict[int, str] = {}

    def answer_all() -> None:
        for n, answer in enumerate(answers):
            try:
                (service.activate if n % 2 else service.oppose)(answer)
                outcomes[n] = "ok"
            except ApiError as error:
                outcomes[n] = error.code

    racer = threading.Thread(target=answer_all)
    sfn_wait_then = threading.Thread(target=_run_timer, args=(timer_clock, invited["cohort_id"], invited["deadline"]))
    racer.start()
    while len(outcomes) < 2:  # the answers start just before the deadline and run through it
        time.sleep(0.01)
    sfn_wait_then.start()
    racer.join()
    sfn_wait_then.join()

    statuses: dict[str, int] = {}
    for n, person in enumerate(people):
        patient = enrolment.patient_token(person)
        me = api.get("/v1/me", token=patient).json_body
        history = [
            e["action"] for e in api.get(f"/v1/patients/{me['patient_id']}/activity", token=patient).json_body["items"]
        ]
        statuses[me["status"]] = statuses.get(me["status"], 0) + 1
        assert history.count("enrolment.auto_created") <= 1
        if n % 2:  # activation always wins: before the timer, or on top of the auto-created space
            assert outcomes[n] == "ok" and me["status"] == "active" and history[0] == "enrolment.activated"
        elif outcomes[n] == "ok":  # the opposition came first: the timer left the person alone
            assert me["status"] == "opposed" and "enrolment.auto_created" not in history
        else:  # the timer came first: the opposition was refused, the space exists
            assert outcomes[n] == "conflict" and me["status"] == "auto_created" and "enrolment.opposed" not in history
    counts = api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"]
    assert sum(counts.values()) == 40 and counts["invited"] == 0
    assert counts["active"] == 20 and counts["opposed"] + counts["auto_created"] == 20
    assert {k: v for k, v in counts.items() if v} == statuses


def test_duplicate_start_and_redelivery_change_nothing_twice(api, enrolment, timer_clock):
    campaign = enrolment.campaign(reminder_days_before=0)
    people = [invitee(3000 + n) for n in range(5)]
    result = enrolment.invite(campaign, people, deadline=_in(3600))
    # The same invitations again (a retried call): same cohort, same execution, nobody twice.
    again = enrolment.invite(campaign, people, deadline=result["deadline"])
    assert again["cohort_id"] == result["cohort_id"] and again["accepted"] == 0
    assert len(_executions()) == 1
    _run_timer(timer_clock, result["cohort_id"], result["deadline"])
    before = len(sent())
    counts = api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"]
    # The queue delivers both steps once more (at-least-once delivery, a re-run execution).
    events.dispatch({"kind": "enrolment.remind", "cohort_id": result["cohort_id"], "remind_at": result["deadline"]})
    events.dispatch({"kind": "enrolment.deadline", "cohort_id": result["cohort_id"]})
    assert drain_timers() == 2 * COHORT_SHARDS  # each step, once per shard
    assert len(sent()) == before
    assert api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"] == counts
    patient = enrolment.patient_token(people[0])
    me = api.get("/v1/me", token=patient).json_body
    history = api.get(f"/v1/patients/{me['patient_id']}/activity", token=patient).json_body["items"]
    assert [e["action"] for e in history] == ["enrolment.auto_created", "enrolment.invited"]


def test_reminder_goes_only_to_those_still_invited(api, enrolment, timer_clock):
    campaign = enrolment.campaign(reminder_days_before=0)
    people = [invitee(4000 + n, email=None, postal_address=f"{n} rue de la Paix, 75002 Paris") for n in range(3)]
    invited = enrolment.invite(campaign, people, deadline=_in(3600))
    assert _answer(api, enrolment, people[0], "activate").status_code == 200
    _run_timer(timer_clock, invited["cohort_id"], invited["deadline"])
    reminded = [n for n in sent() if n["subject"] == "Rappel : Mon espace santé"]
    assert sorted(n["to"] for n in reminded) == sorted(p["postal_address"] for p in people[1:])
    assert all(n["channel"] == "letter" and "Code provisoire" not in n["body"] for n in reminded)


def test_shards_run_apart_and_hand_over_page_by_page(api, enrolment, monkeypatch):
    from chalicelib.enrolment import store

    monkeypatch.setattr(store, "COHORT_PAGE", 3)  # a page of 3: every shard needs several runs
    campaign = enrolment.campaign(reminder_days_before=0)
    people = [invitee(4000 + n) for n in range(80)]
    result = enrolment.invite(campaign, people, deadline=_in(3600))
    assert _answer(api, enrolment, people[0], "activate").status_code == 200
    # The state machine's one message becomes one per shard, nothing handled yet.
    _invoke_on_timer(api, {"kind": "enrolment.deadline", "cohort_id": result["cohort_id"]})
    assert _counts(api, enrolment, campaign)["auto_created"] == 0
    # The test client's Lambda context gives a run 3 s, less than the hand-over margin: each run
    # handles one page, then puts the rest back on the queue.
    runs = _deliver_each(api)
    assert runs > COHORT_SHARDS  # 5 people a shard on average: some shards took several runs
    counts = _counts(api, enrolment, campaign)
    assert (counts["active"], counts["auto_created"], counts["invited"]) == (1, len(people) - 1, 0)
    created_notices = [len([m for m in sent(to=p["email"]) if m["subject"].endswith("a été créé")]) for p in people]
    assert created_notices == [0] + [1] * (len(people) - 1)  # each once, none for the one who answered


def _counts(api, enrolment, campaign: str) -> dict:
    return api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"]


def _invoke_on_timer(api, message: dict) -> None:
    """The timer queue's Lambda handler, invoked as its SQS event source would."""
    event = api.client.events.generate_sqs_event(message_bodies=[json.dumps(message)], queue_name=events.TIMERS_QUEUE)
    api.client.lambda_.invoke("on_timer", event)


def _deliver_each(api) -> int:
    """Delivers the queue's messages to the handler, one invocation each, until it is empty."""
    sqs, url, runs = boto3.client("sqs", region_name="eu-west-3"), settings().timers_queue_url, 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            _invoke_on_timer(api, json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            runs += 1
    return runs


def test_a_notice_that_fails_to_send_is_sent_by_the_schedule_if_still_relevant(api, enrolment, monkeypatch):
    from chalicelib.core import clock
    from chalicelib.core.policy import notify as notifications
    from chalicelib.enrolment import deferred_notices

    people = [invitee(5000 + n) for n in range(3)]
    campaign = enrolment.campaign()
    result = enrolment.invite(campaign, people, deadline=_in(3600))
    unreachable = {people[0]["email"], people[1]["email"]}
    real_send = notifications.send_email

    def ses_down_for_some(to, subject, body):
        if to in unreachable:
            raise RuntimeError("SES unavailable")
        real_send(to, subject, body)

    monkeypatch.setattr(notifications, "send_email", ses_down_for_some)
    events.dispatch({"kind": "enrolment.deadline", "cohort_id": result["cohort_id"]})
    drain_timers()  # the step goes on: everyone's space is created
    assert _counts(api, enrolment, campaign)["auto_created"] == 3
    assert [len(sent(to=p["email"])) for p in people] == [1, 1, 2]  # invitation (+ creation notice)
    monkeypatch.undo()
    assert _answer(api, enrolment, people[1], "activate").status_code == 200  # moved on since

    assert deferred_notices.resend_due() == 0  # too soon: SES may still be down
    later = clock.now() + timedelta(hours=1)
    assert deferred_notices.resend_due(later) == 1  # people[0]; people[1]'s notice no longer applies
    assert sent(to=people[0]["email"])[-1]["subject"] == "Votre espace Mon espace santé a été créé"
    assert [len(sent(to=p["email"])) for p in people] == [2, 1, 2]
    assert deferred_notices.resend_due(later) == 0  # sent once


@pytest.mark.parametrize(
    "kind, status, subject",
    [
        ("enrolment.deadline", "auto_created", "Votre espace Mon espace santé a été créé"),
        ("enrolment.remind", "invited", "Rappel : Mon espace santé"),
    ],
)
def test_a_timer_notice_is_sent_even_if_the_step_dies_between_commit_and_send(
    api, enrolment, monkeypatch, kind, status, subject
):
    from chalicelib.core import clock
    from chalicelib.core.policy import notify as notifications
    from chalicelib.enrolment import deferred_notices
    from tests.integration.test_enrolment import LambdaDied, _pending_notices, dies_when_sending

    person, campaign = invitee(5100), enrolment.campaign()
    result = enrolment.invite(campaign, [person], deadline=_in(3600))
    step = {"kind": kind, "cohort_id": result["cohort_id"], "remind_at": _in(1)}
    monkeypatch.setattr(notifications, "send_email", dies_when_sending)
    with pytest.raises(LambdaDied):
        for shard in range(COHORT_SHARDS):
            events.dispatch({**step, "shard": shard})
    monkeypatch.undo()
    for shard in range(COHORT_SHARDS):  # the queue delivers the steps again: the person is done already
        events.dispatch({**step, "shard": shard})
    assert _counts(api, enrolment, campaign)[status] == 1
    assert [n["subject"] for n in sent(to=person["email"])] == ["Votre profil Mon espace santé"]
    later = clock.now() + timedelta(hours=1)
    assert deferred_notices.resend_due(later) == 1
    assert deferred_notices.resend_due(later) == 0
    assert [n["subject"] for n in sent(to=person["email"])][1:] == [subject]
    assert _pending_notices() == []
