"""tools.import_invitees against the real API on moto, through the Chalice test client."""

from __future__ import annotations

import csv
import json

import pytest

from chalicelib.core.security.identifiers import ins_key
from tools import import_invitees
from tools.import_invitees import Importer, ImportStopped, State

# The tool sends 500 rows a chunk; here chunks are smaller so the test stays fast: moto deep-copies
# the whole table on every DynamoDB transaction (one per invitee), so its cost grows with the square
# of the rows (about 0.1 s per invitee at a few dozen rows already).
CHUNK = 20
ROWS = 2 * CHUNK + 13  # two full chunks and a partial one, like 1,203 rows in chunks of 500
HEADER = ["ins", "family_name", "given_names", "birth_date", "email", "postal_address"]
BAD_KEY = {3, 25}  # chunk 1, chunk 2
NO_CONTACT = {7, 28}
DUPLICATE_OF = {35: 30, 45: 1}  # inside chunk 2; chunk 3 repeating chunk 1
POSTAL_ONLY = {12, 22, 42}
UNIQUE_VALID = ROWS - len(BAD_KEY) - len(NO_CONTACT) - len(DUPLICATE_OF)
CHUNK_1_INVITED, CHUNK_2_INVITED, CHUNK_3_INVITED = 18, 17, 12


class Crash(Exception):
    """Stands for the process dying."""


def nir(i: int) -> str:
    year = 40 + i % 50
    return f"{1 + i % 2}{year:02d}{1 + i % 12:02d}75{i // 1000 + 100:03d}{i % 1000:03d}"


def person(i: int) -> dict:
    n = nir(DUPLICATE_OF.get(i, i))
    key = ins_key(n)
    if i in BAD_KEY:
        key = f"{(int(key) + 1) % 100:02d}"
    return {
        "ins": n + key,
        "family_name": f"Nomfam{i:04d}",
        "given_names": f"Prenom{i:04d}",
        "birth_date": f"19{40 + DUPLICATE_OF.get(i, i) % 50:02d}-{1 + DUPLICATE_OF.get(i, i) % 12:02d}-15",
        "email": "" if i in NO_CONTACT | POSTAL_ONLY else f"p{i}@example.test",
        "postal_address": f"{i} rue de la Paix, 75002 Paris" if i in POSTAL_ONLY else "",
    }


@pytest.fixture
def people():
    return [person(i) for i in range(ROWS)]


@pytest.fixture
def csv_file(tmp_path, people):
    path = tmp_path / "invitees.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:  # with a BOM, as Excel writes it
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(people)
    return path


@pytest.fixture
def agent(token):
    return token("enrolment_agent")


@pytest.fixture
def campaign(api, agent):
    response = api.post("/v1/enrolment/campaigns", {"name": "Import test", "response_days": 40}, token=agent)
    assert response.status_code == 201, response.json_body
    return response.json_body["campaign_id"]


@pytest.fixture
def poster(api):
    def make(bearer: str):
        def post(path: str, body: dict):
            response = api.post(path, body, token=bearer)
            return response.status_code, response.json_body

        return post

    return make


def invited(api, agent, campaign) -> int:
    response = api.get(f"/v1/enrolment/campaigns/{campaign}", token=agent)
    assert response.status_code == 200, response.json_body
    return response.json_body["counts"]["invited"]


def rejected_rows(path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def importer(csv_file, campaign, post, **kw) -> Importer:
    options = {"chunk_size": CHUNK, "progress": False, "sleep": lambda s: None, "log": lambda m: None, **kw}
    return Importer(csv_path=csv_file, campaign_id=campaign, post=post, **options)


def expected_rejections(people) -> dict[str, str]:
    """INS + family name of each rejected row → its code."""
    codes = {}
    for i in BAD_KEY:
        codes[people[i]["family_name"]] = "invalid_ins"
    for i in NO_CONTACT:
        codes[people[i]["family_name"]] = "invalid_request"
    for i in DUPLICATE_OF:
        codes[people[i]["family_name"]] = "already_enrolled"
    return codes


def test_crash_then_resume_invites_nobody_twice(api, agent, campaign, poster, csv_file, people):
    post = poster(agent)
    calls = []

    def crashing(path, body):
        calls.append(len(body["invitees"]))
        answer = post(path, body)
        if len(calls) == 2:
            raise Crash  # chunk 2 was processed by the API, its answer is lost
        return answer

    with pytest.raises(Crash):
        importer(csv_file, campaign, crashing).run()
    assert calls == [CHUNK, CHUNK]
    state = State.load(csv_file.with_name("invitees.csv.state.json"))
    assert state is not None
    assert (state.rows_done, state.in_flight, state.totals.chunks) == (CHUNK, CHUNK, 1)
    # The API did invite chunk 2 before the "crash".
    assert CHUNK_1_INVITED + CHUNK_2_INVITED + CHUNK_3_INVITED == UNIQUE_VALID
    assert invited(api, agent, campaign) == CHUNK_1_INVITED + CHUNK_2_INVITED

    totals = importer(csv_file, campaign, post).run()

    assert invited(api, agent, campaign) == UNIQUE_VALID
    assert (totals.invited, totals.done_earlier, totals.rejected, totals.chunks) == (
        CHUNK_1_INVITED + CHUNK_3_INVITED,
        CHUNK_2_INVITED,
        6,
        3,
    )
    assert totals.invited + totals.done_earlier == UNIQUE_VALID
    header, rows = rejected_rows(csv_file.with_name("invitees.csv.rejected.csv"))
    assert header == [*HEADER, "error_code", "error_message"]
    assert {row["family_name"]: row["error_code"] for row in rows} == expected_rejections(people)
    assert len(rows) == 6  # no line twice, chunk 2's already_enrolled are not there
    for row in rows:
        original = people[int(row["family_name"][-4:])]
        assert {name: row[name] for name in HEADER} == original
        assert row["error_message"]
    state = State.load(csv_file.with_name("invitees.csv.state.json"))
    assert state is not None
    assert (state.rows_done, state.in_flight) == (ROWS, None)

    # Running again once finished does nothing.
    again = importer(csv_file, campaign, lambda path, body: pytest.fail("nothing left to send")).run()
    assert again == totals


def test_crash_after_rejected_rows_written_leaves_no_duplicate_lines(
    api, agent, campaign, poster, csv_file, people, monkeypatch, tmp_path
):
    """The process dies after writing chunk 1's rejected rows but before recording the chunk as done."""
    small = tmp_path / "small.csv"
    with open(csv_file, encoding="utf-8-sig", newline="") as src, open(small, "w", encoding="utf-8", newline="") as dst:
        for _ in range(1 + 20):
            dst.write(src.readline())
    saves = []
    real_save = State.save

    def save(self, path):
        saves.append(self.in_flight)
        if len(saves) == 2:  # 1: chunk 1 in flight; 2: chunk 1 done ← dies here, rejected rows written
            raise Crash
        real_save(self, path)

    monkeypatch.setattr(State, "save", save)
    with pytest.raises(Crash):
        importer(small, campaign, poster(agent), chunk_size=10).run()
    monkeypatch.setattr(State, "save", real_save)
    _, rows = rejected_rows(f"{small}.rejected.csv")
    assert sorted(row["family_name"] for row in rows) == ["Nomfam0003", "Nomfam0007"]

    totals = importer(small, campaign, poster(agent), chunk_size=10).run()

    _, rows = rejected_rows(f"{small}.rejected.csv")
    assert sorted(row["family_name"] for row in rows) == ["Nomfam0003", "Nomfam0007"]
    assert (totals.invited, totals.done_earlier, totals.rejected, totals.chunks) == (10, 8, 2, 2)
    assert invited(api, agent, campaign) == 18


def test_transient_failures_are_retried(api, agent, campaign, poster, csv_file, tmp_path):
    small = tmp_path / "retry.csv"
    with open(csv_file, encoding="utf-8-sig", newline="") as src, open(small, "w", encoding="utf-8", newline="") as dst:
        for _ in range(1 + 9):
            dst.write(src.readline())
    post = poster(agent)
    script = ["503", "real-then-reset", "429"]
    sleeps: list[float] = []

    def flaky(path, body):
        step = script.pop(0) if script else "real"
        if step == "503":
            return 503, {"error": {"code": "internal_error", "message": "try later"}}
        if step == "429":
            return 429, None
        answer = post(path, body)
        if step == "real-then-reset":
            raise ConnectionResetError("connection reset")  # the API did the work, the answer is lost
        return answer

    run = importer(small, campaign, flaky)
    run.sleep = sleeps.append
    totals = run.run()
    assert len(sleeps) == 3 and sleeps[0] <= sleeps[1] * 2 <= sleeps[2] * 4  # backing off
    # Rows 3 and 7 are invalid: rejected again on the retry; the 7 others were invited by the lost attempt.
    assert (totals.invited, totals.done_earlier, totals.rejected) == (0, 7, 2)
    assert invited(api, agent, campaign) == 7


def test_gives_up_after_bounded_attempts(campaign, csv_file):
    run = importer(csv_file, campaign, lambda path, body: (502, None), max_attempts=3)
    with pytest.raises(ImportStopped, match="giving up after 3 attempts"):
        run.run()


@pytest.mark.parametrize(
    "case, expected",
    [("unknown_campaign", "HTTP 404 not_found"), ("bad_token", "HTTP 401"), ("wrong_role", "HTTP 403")],
)
def test_fatal_errors_stop_with_a_clear_message(api, agent, token, campaign, poster, csv_file, case, expected):
    post = {
        "unknown_campaign": poster(agent),
        "bad_token": poster("not-a-token"),
        "wrong_role": poster(token("patient")),
    }[case]
    campaign_id = "cmp_doesnotexist" if case == "unknown_campaign" else campaign
    calls: list[int] = []

    def counted(path: str, body: dict) -> tuple[int, object]:
        calls.append(1)
        return post(path, body)

    with pytest.raises(ImportStopped, match=expected):
        importer(csv_file, campaign_id, counted).run()
    assert len(calls) == 1  # not retried
    assert invited(api, agent, campaign) == 0


def test_command_line_summary_and_exit_codes(
    api, agent, campaign, poster, csv_file, people, monkeypatch, capsys, tmp_path
):
    small = tmp_path / "cli.csv"
    with open(csv_file, encoding="utf-8-sig", newline="") as src, open(small, "w", encoding="utf-8", newline="") as dst:
        for _ in range(1 + 25):
            dst.write(src.readline())
    seen = {}

    def fake_http_post(api_url, bearer, timeout=120.0):
        seen["api"], seen["token"] = api_url, bearer
        return poster(bearer)

    monkeypatch.setattr(import_invitees, "http_post", fake_http_post)
    monkeypatch.setenv("MES_TOKEN", agent)
    code = import_invitees.main(
        [str(small), "--api", "https://api.example.test", "--campaign", campaign, "--deadline", "2099-01-31T00:00:00Z"]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert seen == {"api": "https://api.example.test", "token": agent}
    assert "invited: 23, rejected: 2, already done earlier: 0, chunks: 1" in out
    assert invited(api, agent, campaign) == 23
    for person_ in people[:26]:  # never an INS or a name on the terminal
        for value in (person_["ins"], person_["family_name"], person_["given_names"]):
            assert value not in out + err
    assert agent not in out + err

    code = import_invitees.main([str(tmp_path / "other.csv"), "--api", "x", "--campaign", "cmp_nope"])
    assert code == 2
    small.with_name("cli.csv.state.json").unlink()
    code = import_invitees.main([str(small), "--api", "x", "--campaign", "cmp_nope"])
    out, err = capsys.readouterr()
    assert code == 1 and "404" in err and "unknown campaign" in err
    monkeypatch.delenv("MES_TOKEN")
    assert import_invitees.main([str(small), "--api", "x", "--campaign", campaign]) == 2


def test_state_file_is_tied_to_its_campaign(campaign, csv_file, tmp_path):
    State(campaign_id="cmp_other", csv_size=csv_file.stat().st_size).save(tmp_path / "invitees.csv.state.json")
    with pytest.raises(import_invitees.BadInput, match="another campaign"):
        importer(csv_file, campaign, lambda path, body: pytest.fail("must not send")).run()
    assert json.loads((tmp_path / "invitees.csv.state.json").read_text())["campaign_id"] == "cmp_other"


def test_http_post_uses_urllib(tmp_path):
    """The real transport, against a throw-away local server: JSON in, (status, JSON) out, errors too."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, self.headers["Authorization"], body))
            status, answer = (
                (404, {"error": {"code": "not_found", "message": "No such campaign."}})
                if "nope" in self.path
                else (200, {"ok": True})
            )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        post = import_invitees.http_post(f"http://127.0.0.1:{server.server_port}/", "tok")
        assert post("/v1/x", {"invitees": [{"ins": "1"}]}) == (200, {"ok": True})
        assert post("/v1/nope", {}) == (404, {"error": {"code": "not_found", "message": "No such campaign."}})
        assert received[0] == ("/v1/x", "Bearer tok", {"invitees": [{"ins": "1"}]})
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(OSError):
        import_invitees.http_post(f"http://127.0.0.1:{server.server_port}", "tok", timeout=2)("/v1/x", {})


def test_minors_come_with_their_representatives_columns(api, agent, campaign, poster, tmp_path):
    from datetime import date

    from devstack.outbox import sent

    born = date.today().replace(year=date.today().year - 8, day=1).isoformat()
    header = HEADER + [prefix + name for prefix in import_invitees.REPRESENTATIVES for name in HEADER]
    adult, kid, alone = person(1), {**person(2), "birth_date": born, "email": ""}, {**person(6), "birth_date": born}
    parents = [person(4), {**person(5), "email": "", "postal_address": "5 rue des Lilas, 75020 Paris"}]
    rows = [
        adult,
        {**kid, **{f"representative{n + 1}_{k}": v for n, parent in enumerate(parents) for k, v in parent.items()}},
        alone,  # a minor without representative
    ]
    path = tmp_path / "families.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)
    logs: list[str] = []
    totals = importer(path, campaign, poster(agent), log=logs.append).run()
    assert (totals.invited, totals.rejected) == (2, 1)
    assert not any("Ignoring" in line for line in logs)  # the representatives' columns are the API's
    _, rejected = rejected_rows(f"{path}.rejected.csv")
    assert [(r["family_name"], r["error_code"]) for r in rejected] == [(alone["family_name"], "invalid_request")]
    assert any("Code provisoire" in m["body"] for m in sent(to=parents[0]["email"]))
    assert any("Code provisoire" in m["body"] for m in sent(to=parents[1]["postal_address"]))
