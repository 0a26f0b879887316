"""The patient portal in headless Chromium against the local stack (`python -m devstack run` on
the browser tests' ports, tests/browser/stack.py): bytes of a first load, and the time until the
documents list is shown, side by side with the API calls that list needs made from Python.

    python -m bench portal [--documents 20] [--runs 7]

- first load: every HTML, JS and CSS file of the welcome page in a browser with an empty cache,
  as transferred (gzip, as CloudFront compresses) and decoded; then what the documents screen
  adds (its module is loaded when first shown);
- documents list after a reload: the token is in memory only, so a reload signs in again (a
  redirect through the provider, whose session is open), then /v1/me, the dependants and the
  first page of documents;
- documents list from another screen (token in memory) vs the same calls from Python.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time
from datetime import date

from chalicelib.core.security.identifiers import ins_key
from devstack import keys
from tests.browser import stack

ASSETS = """() => performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
    .filter((e) => /\\.(html|js|css)$|\\/$/.test(new URL(e.name).pathname))
    .map((e) => ({name: new URL(e.name).pathname, sent: e.transferSize, size: e.decodedBodySize}))"""


def _kib(n: float) -> str:
    return f"{n / 1024:.1f} KiB"


def _person(documents: int) -> dict:
    nir = f"2900175056{int(time.time()) % 1000:03d}"
    someone = {
        "ins": nir + ins_key(nir),
        "family_name": "Bench",
        "given_names": "Alice",
        "birth_date": "1990-01-01",
        "email": f"bench.{time.time_ns()}@example.test",
    }
    stack.ok(
        "POST",
        "/v1/enrolment/activate",
        {"ins": someone["ins"], "birth_date": someone["birth_date"], "code": stack.invite(someone)},
    )
    token = keys.mint("patient", {"ins": someone["ins"]})
    patient_id = stack.ok("GET", "/v1/me", token=token)["patient_id"]
    for i in range(documents):
        stack.ok(
            "POST",
            f"/v1/patients/{patient_id}/documents",
            {
                "type": "lab_result",
                "title": f"Bilan {i + 1}",
                "date": date.today().isoformat(),
                "media_type": "text/plain",
                "content_base64": base64.b64encode(f"Résultat {i + 1}".encode()).decode(),
            },
            token,
        )
    return {**someone, "token": token, "patient_id": patient_id}


def _shown(page, documents: int) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('li.card').length === {documents}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench portal", description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with stack.running_stack(stack.ROOT / "build" / "bench-portal-stack.log"), sync_playwright() as playwright:
        browser = stack.launch(playwright)
        someone = _person(args.documents)
        page = browser.new_context(locale="fr-FR").new_page()
        page.goto(f"{stack.PORTAL}/#/")
        page.get_by_role("heading", name="Bienvenue sur Mon espace santé").wait_for()
        welcome = page.evaluate(ASSETS)
        page.goto(f"{stack.PORTAL}/#/documents")
        stack.sign_in(page, someone["ins"])
        _shown(page, args.documents)
        loaded = page.evaluate(ASSETS)
        first = {a["name"]: a for a in welcome}
        extra = [a for a in loaded if a["name"] not in first and a["name"] != "/"]
        sent, size = sum(a["sent"] for a in welcome), sum(a["size"] for a in welcome)
        print(
            f"first load (welcome): {len(welcome)} files, {_kib(sent)} transferred, {_kib(size)} decoded "
            f"({sent / size:.0%})"
        )
        print(
            f"  + documents screen: {len(extra)} files, {_kib(sum(a['sent'] for a in extra))} transferred, "
            f"{_kib(sum(a['size'] for a in extra))} decoded"
        )

        reloads, switches, floors = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            page.reload()
            _shown(page, args.documents)
            reloads.append(time.perf_counter() - started)
            page.get_by_role("link", name="Agenda").click()
            page.get_by_role("heading", name="Agenda", level=1).wait_for()
            started = time.perf_counter()
            page.get_by_role("link", name="Documents").click()
            _shown(page, args.documents)
            switches.append(time.perf_counter() - started)
            started = time.perf_counter()
            stack.ok("GET", "/v1/me", token=someone["token"])
            stack.ok("GET", f"/v1/patients/{someone['patient_id']}/documents", token=someone["token"])
            floors.append(time.perf_counter() - started)
        browser.close()
    reload, switch, floor = (statistics.median(x) * 1000 for x in (reloads, switches, floors))
    print(f"documents list ({args.documents} documents), median of {args.runs}:")
    print(f"  after a reload (sign-in redirect + token + /v1/me + list): {reload:.0f} ms")
    print(
        f"  from another screen: {switch:.0f} ms vs {floor:.0f} ms for the API calls alone from Python "
        f"({switch / floor:.2f}×)"
    )
