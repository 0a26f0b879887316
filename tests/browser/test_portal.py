"""The patient portal in a real browser, walked as people would, against the local stack.

What the portal shows is checked on the page; what it did is checked through the API.
Screenshots of every screen, at desktop and phone widths: build/portal-screens/.
"""

from __future__ import annotations

import base64
import itertools
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.security.identifiers import ins_key, rpps_check_digit
from devstack import keys, portal_server
from infra.portal import security_headers
from tests.browser import stack

XSS_TITLE = "<img src=x onerror=alert(1)>"
_serial = itertools.count(int(datetime.now().timestamp()) % 100000)


def person(given: str, family: str, birth: str) -> dict:
    nir = (
        f"{'2' if given in ('Marie', 'Léa', 'Sophie') else '1'}{birth[2:4]}{birth[5:7]}75056{next(_serial) % 1000:03d}"
    )
    return {
        "ins": nir + ins_key(nir),
        "family_name": family,
        "given_names": given,
        "birth_date": birth,
        "email": f"{given.lower()}.{next(_serial)}@example.test",
    }


def rpps(first10: str) -> str:
    return first10 + rpps_check_digit(first10)


def patient_token(someone: dict) -> str:
    return keys.mint("patient", {"ins": someone["ins"]})


def activate(visit, someone: dict, code: str) -> None:
    page = visit.page
    page.goto(f"{stack.PORTAL}/#/activer")
    page.get_by_role("heading", name="Activer mon espace", level=1).wait_for()
    visit.screen("activation")
    page.get_by_label("INS (numéro de sécurité sociale)").fill(someone["ins"])
    page.get_by_label("Date de naissance").fill(someone["birth_date"])
    page.get_by_label("Code provisoire").fill(code)
    page.get_by_role("button", name="Activer").click()
    page.locator("main").get_by_text("Votre espace est activé.").wait_for()


def go(visit, menu: str, heading: str) -> None:
    visit.page.get_by_role("navigation", name="Menu principal").get_by_role("link", name=menu).click()
    visit.page.get_by_role("heading", name=heading, level=1).wait_for()


def card(page, title: str):
    return page.locator("li.card").filter(has=page.get_by_role("link", name=title, exact=True))


def test_a_person_walks_through_the_portal(desktop):
    page = desktop.page
    marie = person("Marie", "Durand", "1985-03-14")
    code = stack.invite(marie)

    # Activation with the code of the notice, then sign-in through the provider.
    activate(desktop, marie, code)
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{stack.PORTAL}/oidc/authorize?*")
    desktop.screen("connexion")
    stack.sign_in(page, marie["ins"])
    page.get_by_role("heading", name="Documents", level=1).wait_for()
    assert page.url == f"{stack.PORTAL}/#/documents"  # the code is gone from the address bar
    page.get_by_text("Marie Durand").wait_for()
    desktop.screen("documents-vide")
    token = patient_token(marie)
    me = stack.ok("GET", "/v1/me", token=token)
    assert me["status"] == "active"
    documents = f"/v1/patients/{me['patient_id']}/documents"

    # A photo from the phone's camera input, and a text file whose title is HTML.
    camera = page.get_by_label("Ou prendre une photo")
    assert camera.get_attribute("capture") == "environment"
    page.get_by_label("Titre").fill("Photo de l’ordonnance")
    page.get_by_label("Type", exact=True).select_option("prescription")
    camera.set_input_files({"name": "photo.png", "mimeType": "image/png", "buffer": stack.png()})
    page.get_by_role("button", name="Déposer").click()
    card(page, "Photo de l’ordonnance").wait_for()
    page.get_by_label("Titre").fill(XSS_TITLE)
    page.get_by_label("Fichier").set_input_files(
        {"name": "cr.txt", "mimeType": "text/plain", "buffer": b"Compte rendu"}
    )
    page.get_by_role("button", name="Déposer").click()
    card(page, XSS_TITLE).wait_for()
    assert page.locator("img[src=x]").count() == 0
    prescriptions = page.locator("section.group").filter(has=page.get_by_role("heading", name="Ordonnance", level=3))
    assert prescriptions.locator("li.card").count() == 1  # listed by type; the text file is "other"
    stored = {d["title"]: d for d in stack.ok("GET", documents, token=token)["items"]}
    assert (
        stored["Photo de l’ordonnance"]["media_type"] == "image/png"
        and stored["Photo de l’ordonnance"]["type"] == "prescription"
    )
    assert stored[XSS_TITLE]["media_type"] == "text/plain"

    # Masking, seen on the page and by the API.
    card(page, "Photo de l’ordonnance").get_by_role("button", name="Masquer Photo de l’ordonnance").click()
    card(page, "Photo de l’ordonnance").get_by_text("Masqué aux professionnels").wait_for()
    photo = stored["Photo de l’ordonnance"]["document_id"]
    assert stack.ok("GET", f"{documents}/{photo}", token=token)["masked"] is True
    desktop.screen("documents")

    # The photo opened in the page, fetched with the token and shown from a blob: URL.
    page.get_by_role("link", name="Photo de l’ordonnance", exact=True).click()
    preview = page.get_by_role("img", name="Aperçu du document « Photo de l’ordonnance »")
    preview.wait_for()
    assert preview.get_attribute("src").startswith("blob:")
    page.wait_for_function(
        "() => document.querySelector('img.preview').naturalWidth === 24"
    )  # a function: the CSP refuses eval
    desktop.screen("document")
    page.get_by_role("link", name="← Retour aux documents").click()
    card(page, XSS_TITLE).get_by_role("link").click()
    page.locator("pre.preview").get_by_text("Compte rendu").wait_for()
    assert page.get_by_role("heading", name=XSS_TITLE, level=1).is_visible()

    # Unmasking, and deleting after a confirmation.
    page.get_by_role("link", name="← Retour aux documents").click()
    card(page, "Photo de l’ordonnance").get_by_role("button", name="Démasquer Photo de l’ordonnance").click()
    card(page, "Photo de l’ordonnance").get_by_role(
        "button", name="Masquer Photo de l’ordonnance", exact=True
    ).wait_for()
    assert stack.ok("GET", f"{documents}/{photo}", token=token)["masked"] is False
    card(page, XSS_TITLE).get_by_role("button", name=f"Supprimer {XSS_TITLE}").click()
    card(page, XSS_TITLE).wait_for(state="detached")
    assert desktop.dialogs == [f"confirm: Supprimer définitivement « {XSS_TITLE} » ?"]  # and no alert(1)
    assert stack.call("GET", f"{documents}/{stored[XSS_TITLE]['document_id']}", token=token)[0] == 404
    desktop.dialogs.clear()

    # A doctor granted until a date.
    doctor = rpps("1000000001")
    until = date.today() + timedelta(days=30)
    go(desktop, "Accès au dossier", "Accès au dossier")
    page.get_by_label("Numéro RPPS", exact=True).fill(doctor)
    page.get_by_label("Jusqu’au (inclus)").fill(until.isoformat())
    page.get_by_role("button", name="Autoriser", exact=True).click()
    row = page.get_by_role("row").filter(has_text=doctor)
    row.wait_for()
    assert str(until.year) in row.inner_text()
    (grant,) = stack.ok("GET", f"/v1/patients/{me['patient_id']}/access", token=token)["grants"]
    assert grant["rpps"] == doctor and grant["expires_at"].startswith(until.isoformat())
    desktop.screen("acces")

    # The doctor writes, with an attachment; Marie reads it, downloads it and replies with one.
    dr = stack.professional(doctor, "Dr Paul Morel")
    note = base64.b64encode(b"Resultats normaux.").decode()
    opened = stack.ok("POST", "/v1/conversations", {
        "patient_id": me["patient_id"], "subject": "Vos résultats", "body": "Bonjour, voici vos résultats.",
        "attachments": [{"filename": "resultats.txt", "media_type": "text/plain", "content_base64": note}],
    }, dr)  # fmt: skip
    go(desktop, "Messagerie", "Messagerie")
    conversation = page.locator("li.card").filter(has_text="Vos résultats")
    conversation.get_by_text("1 message non lu").wait_for()
    desktop.screen("messages")
    conversation.get_by_role("link", name="Vos résultats").click()
    page.get_by_role("heading", name="Vos résultats", level=1).wait_for()
    page.get_by_text("Bonjour, voici vos résultats.").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Télécharger resultats.txt")).click()
    assert download.value.suggested_filename == "resultats.txt"
    assert download.value.path().read_bytes() == b"Resultats normaux."
    page.get_by_label("Votre message").fill("Merci docteur, voici ma tension.")
    page.get_by_label("Pièces jointes").set_input_files(
        {"name": "tension.png", "mimeType": "image/png", "buffer": stack.png()}
    )
    page.get_by_role("button", name="Envoyer").click()
    page.locator("li.message.mine").get_by_text("Merci docteur, voici ma tension.").wait_for()
    desktop.screen("conversation")
    thread = stack.ok("GET", f"/v1/conversations/{opened['conversation_id']}/messages", token=dr)["items"]
    assert thread[-1]["body"] == "Merci docteur, voici ma tension."
    assert [a["filename"] for a in thread[-1]["attachments"]] == ["tension.png"]
    assert stack.ok("GET", "/v1/conversations", token=token)["items"][0]["unread"] == 0

    # The history, verified.
    go(desktop, "Historique", "Historique")
    page.get_by_text(re.compile(r"Historique vérifié : ses \d+ événements sont intacts")).wait_for()
    for action in ("Espace activé", "Document masqué", "Accès autorisé"):
        assert page.get_by_role("cell", name=action, exact=True).first.is_visible()
    desktop.screen("historique")

    # An appointment in the agenda, and its iCalendar feed.
    go(desktop, "Agenda", "Agenda")
    start = datetime.now() + timedelta(days=3)
    page.get_by_label("Type").select_option("appointment")
    page.get_by_label("Intitulé").fill("Consultation de cardiologie")
    page.get_by_label("Début").fill(start.strftime("%Y-%m-%dT10:30"))
    page.get_by_label("Lieu (facultatif)").fill("Hôpital Saint-Louis")
    page.get_by_role("button", name="Ajouter").click()
    page.locator("li.card").filter(has_text="Consultation de cardiologie").get_by_text("Rendez-vous").wait_for()
    feed = page.get_by_label("Lien d’abonnement iCalendar").input_value()
    assert feed == f"{stack.API}/v1/patients/{me['patient_id']}/agenda.ics"
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger l’agenda (.ics)").click()
    assert "SUMMARY:Consultation de cardiologie" in download.value.path().read_text(encoding="utf-8")
    (event,) = stack.ok("GET", f"/v1/patients/{me['patient_id']}/agenda", token=token)["items"]
    paris = start.replace(
        hour=10, minute=30, second=0, microsecond=0, tzinfo=ZoneInfo("Europe/Paris")
    )  # the browser's zone
    assert event["start"] == paris.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    desktop.screen("agenda")

    # The health profile: two weights make a chart, an allergy.
    go(desktop, "Profil médical", "Profil médical")
    page.get_by_text("Ajouter une mesure").click()
    for value, days_ago in (("71.5", 10), ("70.2", 1)):
        page.get_by_label("Mesure", exact=True).select_option("weight")
        page.get_by_label("Valeur").fill(value)
        page.get_by_label("Date et heure").fill((datetime.now() - timedelta(days=days_ago)).strftime("%Y-%m-%dT08:00"))
        page.get_by_role("form", name="Ajouter une mesure").get_by_role("button", name="Ajouter").click()
        page.get_by_text("Mesure ajoutée.").wait_for(state="attached")
    page.wait_for_function("() => document.querySelectorAll('svg.chart circle').length === 2")
    assert "Poids : 2 mesures" in page.locator("svg.chart title").text_content()
    page.get_by_text("Ajouter : allergies").click()
    page.get_by_label("Substance").fill("Pénicilline")
    page.get_by_role("form", name="Ajouter : Allergies").get_by_role("button", name="Ajouter").click()
    page.get_by_role("button", name="Supprimer Pénicilline").wait_for()
    profile = stack.ok("GET", f"/v1/patients/{me['patient_id']}/profile", token=token)
    assert [a["substance"] for a in profile["allergies"]] == ["Pénicilline"]
    assert profile["measurements"][0]["value"] == 70.2
    desktop.screen("profil")

    # A referenced app connected with one of its two scopes, then revoked.
    admin = keys.mint("catalogue_admin")
    app = stack.ok("POST", "/v1/catalogue/apps", {
        "name": f"Glyco Suivi {next(_serial)}", "publisher": "Santé Numérique SAS", "category": "diabetes",
        "description": "Carnet de glycémie connecté.", "scopes": ["measurements:read", "measurements:write"],
    }, admin)  # fmt: skip
    go(desktop, "Applications", "Applications")
    offer = page.get_by_role("form", name=f"Connecter {app['name']}")
    offer.get_by_label("Lire vos mesures").uncheck()
    offer.get_by_role("button", name=f"Connecter {app['name']}").click()
    connected = (
        page.get_by_role("region", name="Applications connectées").locator("li.card").filter(has_text=app["name"])
    )
    connected.get_by_text("Ajouter des mesures").wait_for()
    (connection,) = stack.ok("GET", f"/v1/patients/{me['patient_id']}/connections", token=token)["items"]
    assert connection["scopes"] == ["measurements:write"]
    desktop.screen("applications")
    connected.get_by_role("button", name=f"Révoquer {app['name']}").click()
    page.get_by_text("Aucune application connectée.").wait_for()
    assert stack.ok("GET", f"/v1/patients/{me['patient_id']}/connections", token=token)["items"] == []

    # Closing the space: the screen, its confirmation.
    go(desktop, "Fermer l’espace", "Fermer l’espace")
    desktop.screen("fermer")

    # Nothing left for a third party, no token anywhere but memory, no CSP violation.
    assert desktop.hosts() <= {f"127.0.0.1:{stack.PORTAL_PORT}", f"127.0.0.1:{stack.API_PORT}"}
    jwt = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
    assert not any(jwt.search(url) for url in desktop.requests)
    assert page.evaluate("JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})") == "{}{}"
    assert desktop.csp_violations() == []
    assert desktop.dialogs == []  # no alert(1) ran, nor anything else

    # Signing out forgets the token and ends the provider's session: the form is asked again.
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("heading", name="Bienvenue sur Mon espace santé").wait_for()
    page.goto(f"{stack.PORTAL}/#/documents")
    stack.sign_in(page, marie["ins"])
    go(desktop, "Fermer l’espace", "Fermer l’espace")
    page.get_by_label("Je comprends que la fermeture est définitive").check()
    page.get_by_role("button", name="Fermer l’espace").click()
    page.locator("main").get_by_text("L’espace est fermé.").wait_for()
    assert stack.ok("GET", "/v1/me", token=token)["status"] == "closed"


def test_the_csp_refuses_scripts_and_requests_the_portal_never_makes(desktop):
    page = desktop.page
    response = page.goto(f"{stack.PORTAL}/#/activer")
    config = portal_server.local_config(stack.PORTAL_PORT, stack.API_PORT)
    assert {k.lower(): v for k, v in security_headers(config).items()}.items() <= response.headers.items()
    page.get_by_role("heading", name="Activer mon espace").wait_for()
    with pytest.raises(Exception, match="TrustedScript"):
        page.add_script_tag(content="document.title = 'injecté'")
    with pytest.raises(Exception, match="TrustedScriptURL"):
        page.evaluate("() => { document.createElement('script').src = 'https://cdn.example.test/x.js'; }")
    page.evaluate(
        "() => { const i = new Image(); i.src = 'https://tracker.example.test/p.gif'; document.body.append(i); }"
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert desktop.csp_violations() == [
        "require-trusted-types-for trusted-types-sink",
        "require-trusted-types-for trusted-types-sink",
        "img-src https://tracker.example.test/p.gif",
    ]
    page.wait_for_timeout(200)  # the failed request is reported after the violation
    assert "tracker.example.test" not in desktop.hosts()


def test_opposition_and_the_apis_errors_shown_in_french_with_its_message(phone):
    page = phone.page
    paul = person("Paul", "Girard", "1979-02-20")
    code = stack.invite(paul)
    page.goto(f"{stack.PORTAL}/#/opposer")
    page.get_by_role("heading", name="M’opposer à la création de mon espace").wait_for()
    page.get_by_label("INS (numéro de sécurité sociale)").fill(paul["ins"])
    page.get_by_label("Date de naissance").fill(paul["birth_date"])
    page.get_by_label("Code provisoire").fill("AAAA-BBBB-CC")
    page.get_by_role("button", name="Je m’oppose").click()
    alert = page.get_by_role("alert")
    alert.get_by_text("Le code provisoire, l’INS ou la date de naissance ne correspondent pas.").wait_for()
    assert "Message du service :" in alert.inner_text()
    phone.screen("opposition-erreur")
    page.get_by_label("Code provisoire").fill(code)
    page.get_by_role("button", name="Je m’oppose").click()
    page.locator("main").get_by_text("Votre opposition est enregistrée").wait_for()
    phone.screen("opposition")
    assert stack.ok("GET", "/v1/me", token=patient_token(paul))["status"] == "opposed"


SCREENS = [
    ("Documents", "Documents", "documents"),
    ("Messagerie", "Messagerie", "messages"),
    ("Agenda", "Agenda", "agenda"),
    ("Profil médical", "Profil médical", "profil"),
    ("Accès au dossier", "Accès au dossier", "acces"),
    ("Historique", "Historique", "historique"),
    ("Applications", "Applications", "applications"),
    ("Aidant", "Aidant", "aidant"),
    ("Fermer l’espace", "Fermer l’espace", "fermer"),
]


def test_every_screen_fits_a_phone(phone):
    page = phone.page
    lucas = person("Lucas", "Petit", "1992-11-30")
    activate(phone, lucas, stack.invite(lucas))
    token = patient_token(lucas)
    me = stack.ok("GET", "/v1/me", token=token)
    stack.ok(
        "POST",
        f"/v1/patients/{me['patient_id']}/documents",
        {
            "type": "lab_result",
            "title": "Bilan sanguin de contrôle annuel",
            "date": "2026-01-15",
            "media_type": "text/plain",
            "content_base64": base64.b64encode(b"Glycemie 0.95 g/L").decode(),
        },
        token,
    )
    stack.ok("PUT", f"/v1/patients/{me['patient_id']}/access/grants/{rpps('1000000002')}", {}, token)
    stack.ok(
        "POST",
        "/v1/conversations",
        {"patient_id": me["patient_id"], "subject": "Rendez-vous de suivi", "body": "Bonjour."},
        stack.professional(rpps("1000000002")),
    )
    page.goto(f"{stack.PORTAL}/#/documents")
    stack.sign_in(page, lucas["ins"])
    page.get_by_role("heading", name="Documents", level=1).wait_for()
    for menu, heading, name in SCREENS:
        go(phone, menu, heading)
        phone.screen(name)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, f"{name} scrolls sideways"


def api_serves_dependants() -> bool:
    """Whether this checkout's API, which the stack runs, has GET /v1/me/dependants (docs/api.md §
    Families): without a token a route it has answers 401 in the contract's shape; one it lacks
    answers 403 "Missing Authentication Token" (API Gateway's 404/405 when deployed)."""
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        response = client.http.get("/v1/me/dependants")
    return response.status_code == 401


@pytest.mark.skipif(
    not api_serves_dependants(), reason="the API does not serve GET /v1/me/dependants yet (docs/api.md § Families)"
)
def test_a_parent_switches_to_their_childs_space(desktop):
    page = desktop.page
    sophie = person("Sophie", "Leroy", "1988-06-02")
    stack.ok(
        "POST",
        "/v1/enrolment/activate",
        {"ins": sophie["ins"], "birth_date": sophie["birth_date"], "code": stack.invite(sophie)},
    )
    born = date.today().replace(year=date.today().year - 8, day=1).isoformat()
    lea = {k: v for k, v in person("Léa", "Leroy", born).items() if k != "email"}  # notices go to the parent
    guardian = {k: sophie[k] for k in ("ins", "family_name", "given_names", "birth_date")} | {
        "email": f"famille.{next(_serial)}@example.test"
    }
    activate(desktop, lea, stack.invite(lea, representatives=[guardian]))  # the parent types the child's code
    page.goto(f"{stack.PORTAL}/#/documents")
    stack.sign_in(page, sophie["ins"])
    page.get_by_role("heading", name="Documents", level=1).wait_for()
    spaces = page.get_by_role("navigation", name="Espaces")
    spaces.get_by_role("link", name=re.compile("Léa Leroy")).click()
    page.get_by_role("heading", name="Documents — Léa Leroy", level=1).wait_for()
    (child,) = stack.ok("GET", "/v1/me/dependants", token=patient_token(sophie))["items"]
    assert page.url == f"{stack.PORTAL}/#/proche/{child['patient_id']}/documents"
    page.get_by_label("Titre").fill("Carnet de vaccination")
    page.get_by_label("Fichier").set_input_files(
        {"name": "carnet.txt", "mimeType": "text/plain", "buffer": b"DTP 2024"}
    )
    page.get_by_role("button", name="Déposer").click()
    card(page, "Carnet de vaccination").wait_for()
    (stored,) = stack.ok("GET", f"/v1/patients/{child['patient_id']}/documents", token=patient_token(sophie))["items"]
    assert stored["author"]["role"] == "representative"
    desktop.screen("espace-enfant")
    spaces.get_by_role("link", name="Mon espace").click()
    page.get_by_role("heading", name="Documents", level=1).wait_for()


def test_emergency_choices_contacts_and_trusted_person(desktop):
    """The two emergency choices, each saved alone; the people to call; one trusted person
    (docs/api.md § Emergency pathway)."""
    page = desktop.page
    nora = person("Nora", "Benali", "1979-09-21")
    activate(desktop, nora, stack.invite(nora))
    token = patient_token(nora)
    page.goto(f"{stack.PORTAL}/#/documents")
    stack.sign_in(page, nora["ins"])
    page.get_by_role("heading", name="Documents", level=1).wait_for()
    me = stack.ok("GET", "/v1/me", token=token)
    access = f"/v1/patients/{me['patient_id']}/access"

    # Refusing the SAMU's access leaves break-glass allowed, and the other way round.
    go(desktop, "Accès au dossier", "Accès au dossier")
    samu = page.get_by_role("form", name="Accès du SAMU (centre 15)")
    glass = page.get_by_role("form", name="Accès en urgence (bris de glace)")
    assert samu.get_by_role("checkbox").is_checked() and glass.get_by_role("checkbox").is_checked()
    samu.get_by_role("checkbox").uncheck()
    samu.get_by_role("button", name=re.compile("Enregistrer")).click()
    page.get_by_text("Réglage de l’accès du SAMU enregistré.").wait_for(state="attached")
    settings = stack.ok("GET", access, token=token)
    assert settings["regulation_access_allowed"] is False and settings["emergency_access_allowed"] is True
    assert not page.get_by_role("form", name="Accès du SAMU (centre 15)").get_by_role("checkbox").is_checked()
    desktop.screen("acces-urgences")
    page.get_by_role("form", name="Accès en urgence (bris de glace)").get_by_role("checkbox").uncheck()
    page.get_by_role("form", name="Accès en urgence (bris de glace)").get_by_role(
        "button", name=re.compile("Enregistrer")
    ).click()
    page.get_by_text("Réglage de l’accès en urgence enregistré.").wait_for(state="attached")
    settings = stack.ok("GET", access, token=token)
    assert settings["regulation_access_allowed"] is False and settings["emergency_access_allowed"] is False

    # The people to call, then the trusted person: once named, no second one is offered.
    go(desktop, "Profil médical", "Profil médical")
    page.get_by_text("Ajouter : personnes à prévenir en cas d’urgence").click()
    contacts = page.get_by_role("form", name="Ajouter : Personnes à prévenir en cas d’urgence")
    contacts.get_by_label("Nom").fill("Karim Benali")
    contacts.get_by_label("Lien (conjoint, fille, voisin…)").fill("frère")
    contacts.get_by_label("Téléphone").fill("06 11 22 33 44")
    contacts.get_by_role("button", name="Ajouter").click()
    page.get_by_role("button", name=re.compile("Supprimer Karim Benali")).wait_for()
    page.get_by_text("Ajouter : personne de confiance").click()
    trusted = page.get_by_role("form", name="Ajouter : Personne de confiance")
    trusted.get_by_label("Nom de la personne de confiance").fill("Dr Hélène Roux")
    trusted.get_by_label("Adresse e-mail (facultatif)").fill("helene.roux@example.test")
    trusted.get_by_role("button", name="Ajouter").click()
    page.get_by_role("button", name=re.compile("Supprimer Dr Hélène Roux")).wait_for()
    assert not page.get_by_text("Ajouter : personne de confiance").is_visible()
    desktop.screen("profil-urgence")
    summary = stack.ok("GET", f"/v1/patients/{me['patient_id']}/emergency-summary", token=token)
    assert [c["name"] for c in summary["emergency_contacts"]] == ["Karim Benali"]
    assert summary["emergency_contacts"][0]["phone"] == "06 11 22 33 44"
    assert summary["trusted_person"]["name"] == "Dr Hélène Roux"

    # Removed, a trusted person may be named again.
    page.get_by_role("button", name=re.compile("Supprimer Dr Hélène Roux")).click()
    page.get_by_text("Ajouter : personne de confiance").wait_for()
    assert stack.ok("GET", f"/v1/patients/{me['patient_id']}/profile", token=token)["trusted_person"] is None


def test_a_patient_names_a_caregiver_who_helps_then_leaves(desktop, chromium):
    from tests.browser.conftest import DESKTOP, Visit

    page = desktop.page
    jeanne, paul = person("Jeanne", "Bernard", "1941-05-12"), person("Paul", "Bernard", "1968-02-03")
    for someone in (jeanne, paul):  # Paul has a space of his own: the switch shows both
        answer = {"ins": someone["ins"], "birth_date": someone["birth_date"], "code": stack.invite(someone)}
        stack.ok("POST", "/v1/enrolment/activate", answer)
    patient_id = stack.ok("GET", "/v1/me", token=patient_token(jeanne))["patient_id"]

    # Jeanne invites Paul as her caregiver.
    page.goto(f"{stack.PORTAL}/#/aidant")
    stack.sign_in(page, jeanne["ins"])
    page.get_by_role("heading", name="Aidant", level=1).wait_for()
    page.get_by_text("Aucun aidant pour le moment.").wait_for()
    desktop.screen("aidant-vide")

    def invite() -> None:
        page.get_by_label("Nom de famille").fill(paul["family_name"])
        page.get_by_label("Prénoms").fill(paul["given_names"])
        page.get_by_label("INS de l’aidant").fill(paul["ins"])
        page.get_by_label("Date de naissance de l’aidant").fill(paul["birth_date"])
        page.get_by_label("Courriel de l’aidant").fill(paul["email"])
        page.get_by_role("button", name="Inviter").click()
        page.get_by_text(re.compile("Paul Bernard — invitation envoyée")).wait_for()

    invite()
    desktop.screen("aidant-invite")
    code = stack.code_sent_to(paul["email"], "Code aidant")

    # Paul, in his own browser, accepts the code and switches to Jeanne's space.
    helper = Visit(chromium, DESKTOP, "desktop-aidant")
    try:
        their = helper.page
        their.goto(f"{stack.PORTAL}/#/code-aidant")
        stack.sign_in(their, paul["ins"])
        their.get_by_role("heading", name="Accepter d’être aidant", level=1).wait_for()
        helper.screen("code-aidant")
        their.get_by_label("Code aidant").fill(code)
        their.get_by_role("button", name="Accepter").click()
        their.get_by_text("Vous êtes désormais aidant.").wait_for()
        their.get_by_role("link", name="Aller à l’espace de la personne aidée").click()
        their.get_by_role("heading", name="Documents — Jeanne Bernard", level=1).wait_for()
        assert their.url == f"{stack.PORTAL}/#/proche/{patient_id}/documents"
        spaces = their.get_by_role("navigation", name="Espaces")
        assert spaces.get_by_role("link", name=re.compile("Jeanne Bernard.*Aidant")).is_visible()
        menu = their.get_by_role("navigation", name="Menu principal")
        assert [link.inner_text() for link in menu.get_by_role("link").all()] == [
            "Documents",
            "Agenda",
            "Profil médical",
            "Historique",
            "Aidant",
        ]
        # within their rights: a deposit, under their own name; no masking or deletion offered
        their.get_by_label("Titre").fill("Ordonnance de kinésithérapie")
        their.get_by_label("Fichier").set_input_files(
            {"name": "kine.txt", "mimeType": "text/plain", "buffer": b"10 seances"}
        )
        their.get_by_role("button", name="Déposer").click()
        card(their, "Ordonnance de kinésithérapie").wait_for()
        assert card(their, "Ordonnance de kinésithérapie").get_by_role("button").count() == 0
        helper.screen("aidant-documents")
        (stored,) = stack.ok("GET", f"/v1/patients/{patient_id}/documents", token=patient_token(jeanne))["items"]
        assert stored["author"]["role"] == "caregiver"
        go(helper, "Historique", "Historique — Jeanne Bernard")
        their.get_by_role("cell", name="Vous", exact=True).first.wait_for()  # he is the caregiver, himself
        helper.screen("aidant-historique")
        their.goto(f"{stack.PORTAL}/#/proche/{patient_id}/acces")  # not theirs: back to the documents
        their.get_by_role("heading", name="Documents — Jeanne Bernard", level=1).wait_for()
        # Paul stops helping, at once
        go(helper, "Aidant", "Aidant — Jeanne Bernard")
        helper.screen("aidant-aide")
        their.get_by_role("button", name="Ne plus être aidant").click()
        their.get_by_text("Vous n’êtes plus l’aidant de Jeanne Bernard.").wait_for()
        assert stack.call("GET", f"/v1/patients/{patient_id}/documents", token=patient_token(paul))[0] == 403
        assert helper.csp_violations() == []
    finally:
        helper.context.close()

    # Jeanne sees it ended, invites him again and withdraws the invitation herself.
    page.reload()
    page.get_by_role("heading", name="Aidant", level=1).wait_for()
    page.get_by_text("Aucun aidant pour le moment.").wait_for()
    invite()
    page.get_by_role("button", name="Annuler l’invitation de Paul Bernard").click()
    page.get_by_text("Aucun aidant pour le moment.").wait_for()
    assert stack.ok("GET", f"/v1/patients/{patient_id}/caregivers", token=patient_token(jeanne))["items"] == []
    actions = [
        e["action"]
        for e in stack.ok("GET", f"/v1/patients/{patient_id}/activity", token=patient_token(jeanne))["items"]
    ]
    assert actions.count("caregiver.invited") == 2 and actions.count("caregiver.ended") == 2
    assert desktop.csp_violations() == []
