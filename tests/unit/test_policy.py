"""Access policy: a hand-written table of expected decisions (docs/domain.md § Who may see what).

Each row is written out literally — actor, space, action, resource, then the expected
(allowed, reason, hide_existence) — so the table is an oracle independent of the implementation.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.policy.decision import (
    Actor,
    Caregiving,
    Decision,
    Representation,
    Resource,
    Space,
    decide,
    majority_day,
)
from chalicelib.core.policy.matrix import DOCUMENT_TYPES, PROFESSION_READABLE_DOCUMENT_TYPES
from chalicelib.core.security.identifiers import PROFESSIONS

NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)
TOMORROW = NOW + timedelta(days=1)
ALL_SCOPES = frozenset(
    {
        "measurements:read",
        "measurements:write",
        "documents:read",
        "documents:write",
        "agenda:read",
        "agenda:write",
        "profile:read",
    }
)

# --- spaces -------------------------------------------------------------------------------------
GRANTS = {
    "G1": None,  # granted medecin, no expiry
    "G2": TOMORROW,  # infirmier, grant still valid
    "X1": YESTERDAY,  # medecin, grant expired
    "B1": None,  # blocked medecin who had a grant
    "O1": None,  # occupational doctor with a grant
    "O3": YESTERDAY,  # occupational doctor, grant expired
    "X2": NOW,  # medecin, grant expiring right now: no longer valid
    "D1": None,  # pedicure_podologue
    "PH": None,  # pharmacien
    "K1": None,  # masseur_kinesitherapeute
}
SESSIONS = {"E1": TOMORROW, "E2": YESTERDAY, "O2": TOMORROW}


def space(status: str = "active", **overrides) -> Space:
    fields: dict[str, Any] = {
        "patient_id": "P1",
        "status": status,
        "treating_doctor": "TD",
        "emergency_access_allowed": True,
        "grants": GRANTS,
        "blocked": frozenset({"B1"}),
        "emergency_sessions": SESSIONS,
    }
    fields.update(overrides)
    return Space(**fields)


ACTIVE = space()
AUTO = space("auto_created")
INVITED = space("invited")
OPPOSED = space("opposed")
CLOSED = space("closed")
OPTED_OUT = space(emergency_access_allowed=False)
# the SAMU regulators' sessions: RG's open, RX's ended; each pathway opposed apart from the other
REG_SESSIONS = {"RG": TOMORROW, "RX": YESTERDAY}
REGULATED = space(regulation_sessions=REG_SESSIONS)
REG_OPTED_OUT = space(regulation_access_allowed=False, regulation_sessions=REG_SESSIONS)
GLASS_OUT_REGULATED = space(emergency_access_allowed=False, regulation_sessions=REG_SESSIONS)
REG_ENDING_NOW = space(regulation_sessions={"RG": NOW})
OCC_IS_TREATING = space(treating_doctor="O2")
OCC_GRANTED_IS_TREATING = space(treating_doctor="O1")

# --- families: NOW is 2026-01-31 ------------------------------------------------------------------
LEGAL = (Representation("R1", "legal_representative"), Representation("R2", "legal_representative"))
CHILD = space(birth_date=date(2016, 5, 14), representations=LEGAL)  # 9 years old
EVE = space(birth_date=date(2008, 2, 1), representations=LEGAL)  # 18 tomorrow
BIRTHDAY = space(birth_date=date(2008, 1, 31), representations=LEGAL)  # 18 today
DAY_AFTER = space(birth_date=date(2008, 1, 30), representations=LEGAL)  # 18 yesterday
CHILD_CLOSED = space("closed", birth_date=date(2016, 5, 14), representations=LEGAL)
GUARDED = space(
    birth_date=date(1950, 1, 1),
    representations=(
        Representation("GU", "guardian", until=date(2026, 6, 30)),
        Representation("GX", "guardian", until=date(2026, 1, 31)),  # ends today
        Representation("GY", "guardian", until=date(2026, 2, 1)),  # ends tomorrow
        Representation("GO", "guardian"),  # no end date
    ),
)
# a guardianship recorded for a minor never counts (a minor's space is the legal representatives')
GUARDED_MINOR = space(birth_date=date(2016, 5, 14), representations=(Representation("GU", "guardian"),))

# --- caregivers: CG helps P1, CI is invited, CE's caregiving ended ------------------------------------
HELPED = space(
    birth_date=date(1940, 3, 2),
    caregivers=(Caregiving("CG", active=True), Caregiving("CI", active=False), Caregiving("CE", active=False)),
)
HELPED_CLOSED = replace(HELPED, status="closed")
HELPED_GUARDED = replace(GUARDED, caregivers=(Caregiving("CG", active=True),))
# a caregiving recorded on a minor's space never counts (the legal representatives act there)
HELPED_MINOR = space(birth_date=date(2016, 5, 14), caregivers=(Caregiving("CG", active=True),))

# --- actors -------------------------------------------------------------------------------------
PAT = Actor("patient", "P1", patient_id="P1")
OTHER_PAT = Actor("patient", "P2", patient_id="P2")
TD = Actor("professional", "TD", profession="medecin")
G1 = Actor("professional", "G1", profession="medecin")
G2 = Actor("professional", "G2", profession="infirmier")
X1 = Actor("professional", "X1", profession="medecin")
X2 = Actor("professional", "X2", profession="medecin")
S1 = Actor("professional", "S1", profession="medecin")  # no relationship at all
B1 = Actor("professional", "B1", profession="medecin")
E1 = Actor("professional", "E1", profession="medecin")
E2 = Actor("professional", "E2", profession="medecin")
O1 = Actor("professional", "O1", profession="medecin_du_travail")
O2 = Actor("professional", "O2", profession="medecin_du_travail")
O3 = Actor("professional", "O3", profession="medecin_du_travail")
D1 = Actor("professional", "D1", profession="pedicure_podologue")
PH = Actor("professional", "PH", profession="pharmacien")
K1 = Actor("professional", "K1", profession="masseur_kinesitherapeute")
WEIRD_PRO = Actor("professional", "G1", profession="astrologue")
RG = Actor("professional", "RG", profession="medecin", regulation=True)  # a SAMU regulator, session open
RG_PLAIN = Actor("professional", "RG", profession="medecin")  # the same doctor's ordinary token
RX = Actor("professional", "RX", profession="medecin", regulation=True)  # session ended
RS = Actor("professional", "S1", profession="medecin", regulation=True)  # a regulator, no session
RN = Actor("professional", "RN", profession="infirmier", regulation=True)  # the claim, not a doctor
RB = Actor("professional", "B1", profession="medecin", regulation=True)  # blocked
RO = Actor("professional", "O1", profession="medecin_du_travail", regulation=True)
APP_FULL = Actor("app", "app-1", patient_id="P1", scopes=ALL_SCOPES, app_connected=True)
APP_MW = Actor("app", "app-2", patient_id="P1", scopes=frozenset({"measurements:write"}), app_connected=True)
APP_PR = Actor("app", "app-3", patient_id="P1", scopes=frozenset({"profile:read"}), app_connected=True)
APP_OFF = Actor("app", "app-1", patient_id="P1", scopes=ALL_SCOPES, app_connected=False)
APP_ELSEWHERE = Actor("app", "app-1", patient_id="P2", scopes=ALL_SCOPES, app_connected=True)
INSURER = Actor("insurer", "cpam-1")
INSURER_POSING = Actor("insurer", "P1", patient_id="P1")
MUTUAL = Actor("mutual_insurer", "G1")  # same id as a granted professional
EMPLOYER = Actor("employer", "acme")
UNKNOWN = Actor("hacker", "x")
AGENT = Actor("enrolment_agent", "agent-1")
R1 = Actor("representative", "R1")
R3 = Actor("representative", "R3")  # named on no space
GU = Actor("representative", "GU")
GX = Actor("representative", "GX")
GY = Actor("representative", "GY")
GO = Actor("representative", "GO")
KID = Actor("patient", "P1", patient_id="P1")  # the holder's own login
CG = Actor("caregiver", "CG")
CI = Actor("caregiver", "CI")
CE = Actor("caregiver", "CE")
CX = Actor("caregiver", "CX")  # named on no space
ADMIN = Actor("catalogue_admin", "admin-1")
OPERATOR = Actor("migration_operator", "operator-1")
MIGRATION = Actor("migration", "mig_1")  # the importer's history actor: never a caller

# --- resources ----------------------------------------------------------------------------------
BY_G1 = ("professional", "G1")
LAB = Resource("document", "lab_result", author=BY_G1)
HOSP = Resource("document", "hospital_report", author=BY_G1)
PRESC = Resource("document", "prescription", author=BY_G1)
IMAGING = Resource("document", "imaging_report", author=BY_G1)
VACC = Resource("document", "vaccination_record", author=BY_G1)
MASKED = Resource("document", "lab_result", author=BY_G1, masked=True)
BY_S1 = Resource("document", "lab_result", author=("professional", "S1"))
HOSP_BY_PH = Resource("document", "hospital_report", author=("professional", "PH"))
INVIS_NEW = Resource("document", "lab_result", author=BY_G1, invisible_to_patient=True, invisible_since=YESTERDAY)
INVIS_NONE = Resource("document", "lab_result", author=BY_G1, invisible_to_patient=True)
INVIS_30 = Resource(
    "document",
    "lab_result",
    author=BY_G1,
    invisible_to_patient=True,
    invisible_since=NOW - timedelta(days=30),
)
INVIS_29 = Resource(
    "document",
    "lab_result",
    author=BY_G1,
    invisible_to_patient=True,
    invisible_since=NOW - timedelta(days=29, hours=23),
)
INVIS_31 = Resource(
    "document",
    "lab_result",
    author=BY_G1,
    invisible_to_patient=True,
    invisible_since=NOW - timedelta(days=31),
)
NEW_DOC = Resource("document", "consultation_report")
NEW_INVIS = Resource("document", "lab_result", invisible_to_patient=True)
APP_MASKED = Resource("document", "other", author=("app", "app-1"), masked=True)
PROFILE = Resource("profile")
MEAS = Resource("measurement")
AGENDA = Resource("agenda")
AGENDA_BY_G1 = Resource("agenda", author=("professional", "G1"))
AGENDA_BY_X1 = Resource("agenda", author=("professional", "X1"))
ACTIVITY = Resource("activity")
SETTINGS = Resource("access_settings")
CONN = Resource("connection")
CONV = Resource("conversation")
EXPORT = Resource("export")
SPACE = Resource("space")
SECRET = Resource("document", "other", author=BY_G1, hidden_from_representatives=True)
NEW_SECRET = Resource("document", "other", hidden_from_representatives=True)
SECRET_EVENT = Resource("activity", hidden_from_representatives=True)
INVISIBLE_EVENT = Resource("activity", invisible_to_patient=True)  # about a document deleted while still invisible
BY_R1 = Resource("document", "other", author=("representative", "R1"))
SUMMARY = Resource("emergency_summary")
DIRECTIVES = Resource("document", "advance_directives", author=("patient", "P1"))
CAREGIVING = Resource("caregiving")
CAREGIVING_CG = Resource("caregiving", author=("caregiver", "CG"))  # CG's own caregiving
CAREGIVING_CI = Resource("caregiving", author=("caregiver", "CI"))
AGENDA_BY_CG = Resource("agenda", author=("caregiver", "CG"))

T, F = True, False

# fmt: off
ROWS = [
    # id, actor, space, action, resource, allowed, reason, hide_existence
    # --- patient ---
    ("patient_reads_doc", PAT, ACTIVE, "read", LAB, T, "patient_own_space", F),
    ("patient_reads_masked", PAT, ACTIVE, "read", MASKED, T, "patient_own_space", F),
    ("patient_invisible_yesterday", PAT, ACTIVE, "read", INVIS_NEW, F, "invisible_to_patient", T),
    ("patient_invisible_since_none", PAT, ACTIVE, "read", INVIS_NONE, F, "invisible_to_patient", T),
    ("patient_invisible_29_days", PAT, ACTIVE, "read", INVIS_29, F, "invisible_to_patient", T),
    ("patient_invisible_30_days", PAT, ACTIVE, "read", INVIS_30, T, "patient_own_space", F),
    ("patient_invisible_31_days", PAT, ACTIVE, "read", INVIS_31, T, "patient_own_space", F),
    ("patient_delete_invisible", PAT, ACTIVE, "delete", INVIS_NEW, F, "invisible_to_patient", T),
    ("patient_masks", PAT, ACTIVE, "mask", LAB, T, "patient_own_space", F),
    ("patient_updates_doc", PAT, ACTIVE, "update", LAB, T, "patient_own_space", F),
    ("patient_deletes_pro_doc", PAT, ACTIVE, "delete", LAB, T, "patient_own_space", F),
    ("patient_releases", PAT, ACTIVE, "release", LAB, F, "author_only", F),
    ("patient_deposits", PAT, ACTIVE, "create", NEW_DOC, T, "patient_own_space", F),
    ("patient_deposits_invisible", PAT, ACTIVE, "create", NEW_INVIS, F, "invisible_reserved_to_professionals", F),
    ("patient_emergency", PAT, ACTIVE, "emergency_access", SPACE, F, "professional_only", F),
    ("patient_search", PAT, ACTIVE, "search", SPACE, F, "professional_only", F),
    ("patient_opens_conversation", PAT, ACTIVE, "create", CONV, F, "patient_cannot_open_conversation", F),
    ("patient_replies", PAT, ACTIVE, "message", CONV, T, "patient_own_space", F),
    ("patient_reads_conversation", PAT, ACTIVE, "read", CONV, T, "patient_own_space", F),
    ("patient_other_space", OTHER_PAT, ACTIVE, "read", LAB, F, "not_own_space", T),
    ("patient_other_space_activity", OTHER_PAT, CLOSED, "read", ACTIVITY, F, "not_own_space", T),
    ("patient_manage_access", PAT, ACTIVE, "manage_access", SETTINGS, T, "patient_own_space", F),
    ("patient_reads_settings", PAT, ACTIVE, "read", SETTINGS, T, "patient_own_space", F),
    ("patient_connects_app", PAT, ACTIVE, "create", CONN, T, "patient_own_space", F),
    ("patient_export", PAT, ACTIVE, "read", EXPORT, T, "patient_own_space", F),
    ("patient_auto_created_measure", PAT, AUTO, "create", MEAS, T, "patient_own_space", F),
    ("patient_agenda_delete", PAT, ACTIVE, "delete", AGENDA, T, "patient_own_space", F),
    ("patient_closed_doc", PAT, CLOSED, "read", LAB, F, "space_not_open", F),
    ("patient_invited_profile", PAT, INVITED, "read", PROFILE, F, "space_not_open", F),
    ("patient_opposed_export", PAT, OPPOSED, "read", EXPORT, F, "space_not_open", F),
    ("patient_closed_activity", PAT, CLOSED, "read", ACTIVITY, T, "patient_own_space", F),
    ("patient_invited_activity", PAT, INVITED, "read", ACTIVITY, T, "patient_own_space", F),
    ("patient_opposed_space", PAT, OPPOSED, "read", SPACE, T, "patient_own_space", F),
    ("patient_closed_close_again", PAT, CLOSED, "update", SPACE, F, "space_not_open", F),
    ("patient_closes_space", PAT, ACTIVE, "update", SPACE, T, "patient_own_space", F),
    ("patient_edits_activity", PAT, ACTIVE, "update", ACTIVITY, F, "unsupported_action", F),
    ("patient_masks_profile", PAT, ACTIVE, "mask", PROFILE, F, "unsupported_action", F),
    ("unknown_action", PAT, ACTIVE, "share", LAB, F, "unknown_action", F),
    ("unknown_kind", PAT, ACTIVE, "read", Resource("wallet"), F, "unknown_kind", F),
    # --- roles that never access health data ---
    ("insurer", INSURER, ACTIVE, "read", LAB, F, "forbidden_role", F),
    ("insurer_posing_as_patient", INSURER_POSING, ACTIVE, "read", PROFILE, F, "forbidden_role", F),
    ("mutual_with_granted_id", MUTUAL, ACTIVE, "read", LAB, F, "forbidden_role", F),
    ("employer", EMPLOYER, ACTIVE, "read", MEAS, F, "forbidden_role", F),
    ("unknown_role", UNKNOWN, ACTIVE, "search", SPACE, F, "forbidden_role", F),
    ("agent_reads_space", AGENT, ACTIVE, "read", SPACE, F, "no_health_data", F),
    ("agent_reads_doc", AGENT, INVITED, "read", LAB, F, "no_health_data", F),
    ("admin_reads_connection", ADMIN, ACTIVE, "read", CONN, F, "no_health_data", F),
    ("operator_reads_doc", OPERATOR, ACTIVE, "read", LAB, F, "no_health_data", F),
    ("operator_reads_space", OPERATOR, ACTIVE, "read", SPACE, F, "no_health_data", F),
    ("operator_deposits", OPERATOR, ACTIVE, "create", LAB, F, "no_health_data", F),
    ("operator_reads_history", OPERATOR, ACTIVE, "read", ACTIVITY, F, "no_health_data", F),
    ("migration_actor_reads_doc", MIGRATION, ACTIVE, "read", LAB, F, "forbidden_role", F),
    # --- professional: reading ---
    ("stranger_reads", S1, ACTIVE, "read", LAB, F, "no_grant", F),
    ("granted_reads_lab", G1, ACTIVE, "read", BY_S1, T, "grant", F),
    ("granted_reads_hospital", G1, ACTIVE, "read", HOSP_BY_PH, T, "grant", F),
    ("timed_grant_reads", G2, ACTIVE, "read", LAB, T, "grant", F),
    ("expired_grant_reads", X1, ACTIVE, "read", LAB, F, "no_grant", F),
    ("grant_expiring_now_reads", X2, ACTIVE, "read", LAB, F, "no_grant", F),
    ("treating_reads", TD, ACTIVE, "read", LAB, T, "treating_doctor", F),
    ("emergency_reads", E1, ACTIVE, "read", LAB, T, "emergency_session", F),
    ("emergency_expired_reads", E2, ACTIVE, "read", LAB, F, "no_grant", F),
    ("emergency_after_opt_out", E1, OPTED_OUT, "read", LAB, F, "no_grant", F),
    ("granted_auto_created", G2, AUTO, "read", LAB, T, "grant", F),
    ("granted_reads_profile", G1, ACTIVE, "read", PROFILE, T, "grant", F),
    ("granted_reads_measurements", G2, ACTIVE, "read", MEAS, T, "grant", F),
    ("stranger_reads_profile", S1, ACTIVE, "read", PROFILE, F, "no_grant", F),
    ("stranger_reads_agenda", S1, ACTIVE, "read", AGENDA, F, "no_grant", F),
    # --- professional: masked ---
    ("granted_reads_masked", G2, ACTIVE, "read", MASKED, F, "masked", T),
    ("emergency_reads_masked", E1, ACTIVE, "read", MASKED, F, "masked", T),
    ("treating_reads_masked", TD, ACTIVE, "read", MASKED, T, "treating_doctor", F),
    ("author_reads_masked", G1, ACTIVE, "read", MASKED, T, "author", F),
    ("author_without_grant_reads", S1, ACTIVE, "read", BY_S1, T, "author", F),
    ("granted_deletes_masked_not_his", G2, ACTIVE, "delete", MASKED, F, "masked", T),
    # --- professional: profession x document type ---
    ("podiatrist_hospital_report", D1, ACTIVE, "read", HOSP, F, "profession_matrix", T),
    ("podiatrist_prescription", D1, ACTIVE, "read", PRESC, T, "grant", F),
    ("pharmacist_imaging", PH, ACTIVE, "read", IMAGING, F, "profession_matrix", T),
    ("pharmacist_lab", PH, ACTIVE, "read", LAB, T, "grant", F),
    ("physio_imaging", K1, ACTIVE, "read", IMAGING, T, "grant", F),
    ("physio_lab", K1, ACTIVE, "read", LAB, F, "profession_matrix", T),
    ("nurse_hospital", G2, ACTIVE, "read", HOSP, F, "profession_matrix", T),
    ("pharmacist_author_hospital", PH, ACTIVE, "read", HOSP_BY_PH, T, "author", F),
    ("unknown_document_type", G1, ACTIVE, "read", Resource("document", "horoscope"), F, "profession_matrix", T),
    # --- professional: space status ---
    ("treating_closed", TD, CLOSED, "read", LAB, F, "space_not_open", T),
    ("granted_invited", G1, INVITED, "read", LAB, F, "space_not_open", T),
    ("granted_opposed", G1, OPPOSED, "search", SPACE, F, "space_not_open", T),
    ("deposit_closed", S1, CLOSED, "create", NEW_DOC, F, "space_not_open", T),
    # --- professional: blocked ---
    ("blocked_with_grant_reads", B1, ACTIVE, "read", LAB, F, "blocked", F),
    ("blocked_deposits", B1, ACTIVE, "create", NEW_DOC, F, "blocked", F),
    ("blocked_messages", B1, ACTIVE, "message", CONV, F, "blocked", F),
    ("blocked_opens_conversation", B1, ACTIVE, "create", CONV, F, "blocked", F),
    ("blocked_emergency", B1, ACTIVE, "emergency_access", SPACE, F, "blocked", F),
    ("blocked_search", B1, ACTIVE, "search", SPACE, F, "blocked", F),
    ("blocked_treating", TD, space(blocked=frozenset({"TD"})), "read", LAB, F, "blocked", F),
    # --- professional: deposit and entries ---
    ("stranger_deposits", S1, ACTIVE, "create", NEW_DOC, T, "deposit", F),
    ("stranger_deposits_invisible", S1, ACTIVE, "create", NEW_INVIS, T, "deposit", F),
    ("granted_adds_profile", G1, ACTIVE, "create", PROFILE, T, "grant", F),
    ("stranger_adds_profile", S1, ACTIVE, "create", PROFILE, F, "no_grant", F),
    ("stranger_pushes_agenda", S1, ACTIVE, "create", AGENDA, F, "no_grant", F),
    ("emergency_pushes_agenda", E1, ACTIVE, "create", AGENDA, T, "emergency_session", F),
    ("treating_adds_measurement", TD, ACTIVE, "create", MEAS, T, "treating_doctor", F),
    ("granted_deletes_profile", G1, ACTIVE, "delete", PROFILE, F, "patient_only", F),
    ("author_updates_agenda", G1, ACTIVE, "update", AGENDA_BY_G1, T, "author", F),
    ("author_deletes_agenda", G1, ACTIVE, "delete", AGENDA_BY_G1, T, "author", F),
    ("granted_updates_others_agenda", G2, ACTIVE, "update", AGENDA_BY_G1, F, "author_only", F),
    ("treating_deletes_patients_agenda", TD, ACTIVE, "delete", AGENDA, F, "author_only", F),
    ("author_expired_grant_updates_agenda", X1, ACTIVE, "update", AGENDA_BY_X1, F, "no_grant", F),
    ("blocked_author_deletes_agenda", B1, ACTIVE, "delete", Resource("agenda", author=("professional", "B1")), F,
     "blocked", F),
    ("author_agenda_closed", G1, CLOSED, "update", AGENDA_BY_G1, F, "space_not_open", T),
    # --- professional: author rights ---
    ("author_deletes", G1, ACTIVE, "delete", LAB, T, "author", F),
    ("author_releases", G1, ACTIVE, "release", INVIS_NEW, T, "author", F),
    ("author_updates", G1, ACTIVE, "update", INVIS_NEW, T, "author", F),
    ("other_releases", TD, ACTIVE, "release", INVIS_NEW, F, "author_only", F),
    ("granted_deletes_others", G2, ACTIVE, "delete", BY_S1, F, "author_only", F),
    ("stranger_deletes_others", S1, ACTIVE, "delete", LAB, F, "author_only", F),
    ("invisible_readable_by_granted", G2, ACTIVE, "read", INVIS_NEW, T, "grant", F),
    # --- professional: patient-only things ---
    ("treating_masks", TD, ACTIVE, "mask", LAB, F, "patient_only", F),
    ("treating_manage_access", TD, ACTIVE, "manage_access", SETTINGS, F, "patient_only", F),
    ("granted_reads_settings", G1, ACTIVE, "read", SETTINGS, F, "patient_only", F),
    ("granted_export", G1, ACTIVE, "read", EXPORT, F, "patient_only", F),
    ("granted_connection", G1, ACTIVE, "create", CONN, F, "patient_only", F),
    ("unknown_profession", WEIRD_PRO, ACTIVE, "read", LAB, F, "unknown_profession", F),
    # --- professional: activity, search, messaging, emergency ---
    ("treating_reads_activity", TD, ACTIVE, "read", ACTIVITY, T, "treating_doctor", F),
    ("granted_reads_activity", G1, ACTIVE, "read", ACTIVITY, F, "treating_doctor_only", F),
    ("stranger_search", S1, ACTIVE, "search", SPACE, T, "search", F),
    ("stranger_search_auto_created", S1, AUTO, "search", SPACE, T, "search", F),
    ("stranger_messages", S1, ACTIVE, "message", CONV, T, "messaging", F),
    ("stranger_opens_conversation", S1, ACTIVE, "create", CONV, T, "messaging", F),
    ("stranger_emergency", S1, ACTIVE, "emergency_access", SPACE, T, "emergency_access", F),
    ("emergency_opted_out", S1, OPTED_OUT, "emergency_access", SPACE, F, "emergency_opted_out", F),
    ("emergency_on_closed", S1, CLOSED, "emergency_access", SPACE, F, "space_not_open", T),
    # --- occupational doctor ---
    ("occ_granted_vaccination", O1, ACTIVE, "read", VACC, T, "grant", F),
    ("occ_granted_hospital", O1, ACTIVE, "read", HOSP, F, "profession_matrix", T),
    ("occ_granted_deposits", O1, ACTIVE, "create", NEW_DOC, T, "deposit", F),
    ("occ_granted_emergency", O1, ACTIVE, "emergency_access", SPACE, F, "occupational_doctor_needs_grant", F),
    ("occ_no_grant_reads", O2, ACTIVE, "read", VACC, F, "occupational_doctor_needs_grant", F),
    ("occ_no_grant_deposits", O2, ACTIVE, "create", NEW_DOC, F, "occupational_doctor_needs_grant", F),
    ("occ_no_grant_messages", O2, ACTIVE, "message", CONV, F, "occupational_doctor_needs_grant", F),
    ("occ_no_grant_search", O2, ACTIVE, "search", SPACE, F, "occupational_doctor_needs_grant", F),
    ("occ_emergency_session_ignored", O2, ACTIVE, "read", VACC, F, "occupational_doctor_needs_grant", F),
    ("occ_as_treating_doctor", O2, OCC_IS_TREATING, "read", VACC, F, "occupational_doctor_needs_grant", F),
    ("occ_expired_grant", O3, ACTIVE, "read", VACC, F, "occupational_doctor_needs_grant", F),
    ("occ_granted_activity", O1, ACTIVE, "read", ACTIVITY, F, "treating_doctor_only", F),
    ("occ_granted_treating_activity", O1, OCC_GRANTED_IS_TREATING, "read", ACTIVITY, F, "treating_doctor_only", F),
    ("occ_granted_treating_masked", O1, OCC_GRANTED_IS_TREATING, "read", Resource("document", "other", masked=True), F,
     "masked", T),
    ("occ_granted_treating_reads", O1, OCC_GRANTED_IS_TREATING, "read", VACC, T, "grant", F),
    # --- apps ---
    ("app_reads_doc", APP_FULL, ACTIVE, "read", LAB, T, "app_scope", F),
    ("app_deposits_doc", APP_FULL, ACTIVE, "create", NEW_DOC, T, "app_scope", F),
    ("app_pushes_measurement", APP_MW, ACTIVE, "create", MEAS, T, "app_scope", F),
    ("app_write_only_reads", APP_MW, ACTIVE, "read", MEAS, F, "missing_scope", F),
    ("app_write_only_agenda", APP_MW, ACTIVE, "create", AGENDA, F, "missing_scope", F),
    ("app_profile_reads_measurements", APP_PR, ACTIVE, "read", MEAS, T, "app_scope", F),
    ("app_profile_reads_profile", APP_PR, ACTIVE, "read", PROFILE, T, "app_scope", F),
    ("app_profile_reads_doc", APP_PR, ACTIVE, "read", LAB, F, "missing_scope", F),
    ("app_profile_adds_profile", APP_FULL, ACTIVE, "create", PROFILE, F, "app_not_allowed", F),
    ("app_deletes_doc", APP_FULL, ACTIVE, "delete", LAB, F, "app_not_allowed", F),
    ("app_masks_doc", APP_FULL, ACTIVE, "mask", LAB, F, "app_not_allowed", F),
    ("app_reads_activity", APP_FULL, ACTIVE, "read", ACTIVITY, F, "app_not_allowed", F),
    ("app_export", APP_FULL, ACTIVE, "read", EXPORT, F, "app_not_allowed", F),
    ("app_manage_connection", APP_FULL, ACTIVE, "manage_access", CONN, F, "app_not_allowed", F),
    ("app_settings", APP_FULL, ACTIVE, "read", SETTINGS, F, "app_not_allowed", F),
    ("app_emergency", APP_FULL, ACTIVE, "emergency_access", SPACE, F, "app_not_allowed", F),
    ("app_agenda_update", APP_FULL, ACTIVE, "update", AGENDA, T, "app_scope", F),
    ("app_agenda_delete", APP_FULL, ACTIVE, "delete", AGENDA, T, "app_scope", F),
    ("app_not_connected", APP_OFF, ACTIVE, "read", MEAS, F, "app_not_connected", F),
    ("app_other_space", APP_ELSEWHERE, ACTIVE, "read", MEAS, F, "not_own_space", T),
    ("app_closed_space", APP_FULL, CLOSED, "read", MEAS, F, "space_not_open", F),
    ("app_auto_created", APP_FULL, AUTO, "read", AGENDA, T, "app_scope", F),
    ("app_masked_doc", APP_FULL, ACTIVE, "read", MASKED, F, "masked", T),
    ("app_own_masked_doc", APP_FULL, ACTIVE, "read", APP_MASKED, T, "app_scope", F),
    ("app_invisible_doc", APP_FULL, ACTIVE, "read", INVIS_NEW, F, "invisible_to_patient", T),
    ("app_invisible_after_31_days", APP_FULL, ACTIVE, "read", INVIS_31, T, "app_scope", F),
    ("app_deposits_invisible", APP_FULL, ACTIVE, "create", NEW_INVIS, F, "invisible_reserved_to_professionals", F),
    # --- legal representatives of a minor ---
    ("rep_reads_doc", R1, CHILD, "read", LAB, T, "legal_representative", F),
    ("rep_deposits", R1, CHILD, "create", NEW_DOC, T, "legal_representative", F),
    ("rep_masks", R1, CHILD, "mask", LAB, T, "legal_representative", F),
    ("rep_deletes_own_deposit", R1, CHILD, "delete", BY_R1, T, "legal_representative", F),
    ("rep_manages_access", R1, CHILD, "manage_access", SETTINGS, T, "legal_representative", F),
    ("rep_connects_app", R1, CHILD, "create", CONN, T, "legal_representative", F),
    ("rep_reads_profile", R1, CHILD, "read", PROFILE, T, "legal_representative", F),
    ("rep_adds_agenda", R1, CHILD, "create", AGENDA, T, "legal_representative", F),
    ("rep_reads_activity", R1, CHILD, "read", ACTIVITY, T, "legal_representative", F),
    ("rep_exports", R1, CHILD, "read", EXPORT, T, "legal_representative", F),
    ("rep_closes", R1, CHILD, "delete", SPACE, T, "legal_representative", F),
    ("rep_closes_closed", R1, CHILD_CLOSED, "delete", SPACE, T, "legal_representative", F),
    ("rep_reads_closed_doc", R1, CHILD_CLOSED, "read", LAB, F, "space_not_open", F),
    ("rep_reads_messaging", R1, CHILD, "read", CONV, T, "legal_representative", F),
    ("rep_answers_message", R1, CHILD, "message", CONV, T, "legal_representative", F),
    ("rep_opens_conversation", R1, CHILD, "create", CONV, F, "patient_cannot_open_conversation", F),
    ("rep_messaging_closed", R1, CHILD_CLOSED, "message", CONV, F, "space_not_open", F),
    ("rep_search", R1, CHILD, "search", SPACE, F, "professional_only", F),
    ("rep_invisible_doc", R1, CHILD, "read", INVIS_NEW, F, "invisible_to_patient", T),
    ("rep_releases", R1, CHILD, "release", INVIS_NEW, F, "invisible_to_patient", T),
    ("rep_not_named", R3, CHILD, "read", LAB, F, "not_representative", T),
    ("rep_of_another_space", R1, ACTIVE, "read", LAB, F, "not_representative", T),
    # --- the minor's secret ---
    ("rep_reads_secret", R1, CHILD, "read", SECRET, F, "hidden_from_representatives", T),
    ("rep_deletes_secret", R1, CHILD, "delete", SECRET, F, "hidden_from_representatives", T),
    ("rep_masks_secret", R1, CHILD, "mask", SECRET, F, "hidden_from_representatives", T),
    ("rep_discloses_secret", R1, CHILD, "disclose", SECRET, F, "hidden_from_representatives", T),
    ("rep_reads_secret_event", R1, CHILD, "read", SECRET_EVENT, F, "hidden_from_representatives", T),
    ("patient_reads_invisible_event", PAT, ACTIVE, "read", INVISIBLE_EVENT, F, "invisible_to_patient", T),
    ("patient_reads_invisible_event_closed", PAT, CLOSED, "read", INVISIBLE_EVENT, F, "invisible_to_patient", T),
    ("rep_reads_invisible_event", R1, CHILD, "read", INVISIBLE_EVENT, F, "invisible_to_patient", T),
    ("treating_reads_invisible_event", TD, ACTIVE, "read", INVISIBLE_EVENT, T, "treating_doctor", F),
    ("rep_deposits_secret", R1, CHILD, "create", NEW_SECRET, F, "hidden_reserved_to_professionals", F),
    ("pro_deposits_secret_minor", S1, CHILD, "create", NEW_SECRET, T, "deposit", F),
    ("pro_deposits_secret_adult", S1, ACTIVE, "create", NEW_SECRET, F, "hidden_only_for_minors", F),
    ("pro_deposits_secret_on_birthday", S1, BIRTHDAY, "create", NEW_SECRET, F, "hidden_only_for_minors", F),
    ("patient_deposits_secret", PAT, ACTIVE, "create", NEW_SECRET, F, "hidden_reserved_to_professionals", F),
    ("app_deposits_secret", APP_FULL, CHILD, "create", NEW_SECRET, F, "hidden_reserved_to_professionals", F),
    ("author_reads_secret", G1, CHILD, "read", SECRET, T, "author", F),
    ("author_discloses_secret", G1, CHILD, "disclose", SECRET, T, "author", F),
    ("other_pro_discloses_secret", G2, CHILD, "disclose", SECRET, F, "author_only", F),
    ("treating_reads_secret", TD, CHILD, "read", SECRET, T, "treating_doctor", F),
    ("treating_reads_secret_event", TD, CHILD, "read", SECRET_EVENT, T, "treating_doctor", F),
    ("app_reads_secret_of_minor", APP_FULL, CHILD, "read", SECRET, F, "hidden_from_representatives", T),
    ("app_reads_secret_after_18", APP_FULL, BIRTHDAY, "read", SECRET, T, "app_scope", F),
    ("young_adult_reads_secret", KID, BIRTHDAY, "read", SECRET, T, "patient_own_space", F),
    ("young_adult_discloses", KID, BIRTHDAY, "disclose", SECRET, F, "author_only", F),
    # --- majority: the day before, the day of, the day after the 18th birthday ---
    ("kid_reads_doc", KID, CHILD, "read", LAB, F, "managed_by_representatives", F),
    ("kid_reads_space", KID, CHILD, "read", SPACE, F, "managed_by_representatives", F),
    ("kid_closes", KID, CHILD, "delete", SPACE, F, "managed_by_representatives", F),
    ("kid_eve_reads", KID, EVE, "read", LAB, F, "managed_by_representatives", F),
    ("kid_birthday_reads", KID, BIRTHDAY, "read", LAB, T, "patient_own_space", F),
    ("kid_day_after_reads", KID, DAY_AFTER, "read", LAB, T, "patient_own_space", F),
    ("rep_eve_reads", R1, EVE, "read", LAB, T, "legal_representative", F),
    ("rep_eve_secret", R1, EVE, "read", SECRET, F, "hidden_from_representatives", T),
    ("rep_birthday_reads", R1, BIRTHDAY, "read", LAB, F, "representation_ended", F),
    ("rep_birthday_secret", R1, BIRTHDAY, "read", SECRET, F, "representation_ended", F),
    ("rep_birthday_activity", R1, BIRTHDAY, "read", ACTIVITY, F, "representation_ended", F),
    ("rep_day_after_reads", R1, DAY_AFTER, "read", LAB, F, "representation_ended", F),
    ("rep_day_after_closes", R1, DAY_AFTER, "delete", SPACE, F, "representation_ended", F),
    # --- guardians of protected adults ---
    ("guardian_reads", GU, GUARDED, "read", LAB, T, "guardian", F),
    ("guardian_manages_access", GU, GUARDED, "manage_access", SETTINGS, T, "guardian", F),
    ("guardian_answers_message", GU, GUARDED, "message", CONV, T, "guardian", F),
    ("guardian_no_end_reads", GO, GUARDED, "read", LAB, T, "guardian", F),
    ("guardian_ends_tomorrow", GY, GUARDED, "read", LAB, T, "guardian", F),
    ("guardian_ended_today", GX, GUARDED, "read", LAB, F, "representation_ended", F),
    ("guardian_of_a_minor", GU, GUARDED_MINOR, "read", LAB, F, "representation_ended", F),
    ("guardian_secret", GU, GUARDED, "read", SECRET, F, "hidden_from_representatives", T),
    ("guarded_adult_keeps_access", PAT, GUARDED, "read", LAB, T, "patient_own_space", F),
    ("guardian_elsewhere", GU, CHILD, "read", LAB, F, "not_representative", T),
    # --- the SAMU regulators' access (docs/domain.md § Emergency pathway) ---
    ("regulator_opens", RS, ACTIVE, "regulation_access", SPACE, T, "regulation_access", F),
    ("regulation_without_claim", S1, ACTIVE, "regulation_access", SPACE, F, "not_regulator", F),
    ("regulation_not_a_doctor", RN, ACTIVE, "regulation_access", SPACE, F, "not_regulator", F),
    ("regulation_opposed", RS, REG_OPTED_OUT, "regulation_access", SPACE, F, "regulation_opted_out", F),
    ("regulation_despite_glass_opposed", RS, OPTED_OUT, "regulation_access", SPACE, T, "regulation_access", F),
    ("glass_despite_regulation_opposed", S1, REG_OPTED_OUT, "emergency_access", SPACE, T, "emergency_access", F),
    ("regulation_blocked", RB, ACTIVE, "regulation_access", SPACE, F, "blocked", F),
    ("regulation_closed", RS, CLOSED, "regulation_access", SPACE, F, "space_not_open", T),
    ("regulation_occupational", RO, ACTIVE, "regulation_access", SPACE, F, "occupational_doctor_needs_grant", F),
    ("regulation_by_patient", PAT, ACTIVE, "regulation_access", SPACE, F, "professional_only", F),
    ("regulation_by_app", APP_FULL, ACTIVE, "regulation_access", SPACE, F, "app_not_allowed", F),
    ("regulator_reads", RG, REGULATED, "read", LAB, T, "regulation_session", F),
    ("regulator_reads_profile", RG, REGULATED, "read", PROFILE, T, "regulation_session", F),
    ("regulator_reads_directives", RG, REGULATED, "read", DIRECTIVES, T, "regulation_session", F),
    ("regulator_adds_nothing", RG, REGULATED, "create", PROFILE, F, "no_grant", F),
    ("regulator_pushes_no_agenda", RG, REGULATED, "create", AGENDA, F, "no_grant", F),
    ("regulator_session_ended", RX, REGULATED, "read", LAB, F, "no_grant", F),
    ("regulator_session_ends_now", RG, REG_ENDING_NOW, "read", LAB, F, "no_grant", F),
    ("regulator_after_opposition", RG, REG_OPTED_OUT, "read", LAB, F, "no_grant", F),
    ("regulator_despite_glass_opposed", RG, GLASS_OUT_REGULATED, "read", LAB, T, "regulation_session", F),
    ("regulator_session_plain_token", RG_PLAIN, REGULATED, "read", LAB, F, "no_grant", F),
    ("regulator_token_no_session", RS, ACTIVE, "read", LAB, F, "no_grant", F),
    ("regulator_masked", RG, REGULATED, "read", MASKED, F, "masked", T),
    ("regulator_activity", RG, REGULATED, "read", ACTIVITY, F, "treating_doctor_only", F),
    # --- the emergency summary ---
    ("summary_patient", PAT, ACTIVE, "read", SUMMARY, T, "patient_own_space", F),
    ("summary_representative", R1, CHILD, "read", SUMMARY, T, "legal_representative", F),
    ("summary_guardian", GU, GUARDED, "read", SUMMARY, T, "guardian", F),
    ("summary_kid_own_login", KID, CHILD, "read", SUMMARY, F, "managed_by_representatives", F),
    ("summary_treating_doctor", TD, ACTIVE, "read", SUMMARY, T, "treating_doctor", F),
    ("summary_granted", G2, ACTIVE, "read", SUMMARY, T, "grant", F),
    ("summary_break_glass", E1, ACTIVE, "read", SUMMARY, T, "emergency_session", F),
    ("summary_break_glass_opposed", E1, OPTED_OUT, "read", SUMMARY, F, "no_grant", F),
    ("summary_regulator", RG, REGULATED, "read", SUMMARY, T, "regulation_session", F),
    ("summary_regulator_ended", RX, REGULATED, "read", SUMMARY, F, "no_grant", F),
    ("summary_stranger", S1, ACTIVE, "read", SUMMARY, F, "no_grant", F),
    ("summary_blocked", B1, ACTIVE, "read", SUMMARY, F, "blocked", F),
    ("summary_closed_space", E1, CLOSED, "read", SUMMARY, F, "space_not_open", T),
    ("summary_app", APP_FULL, ACTIVE, "read", SUMMARY, F, "app_not_allowed", F),
    ("summary_insurer", INSURER, ACTIVE, "read", SUMMARY, F, "forbidden_role", F),
    ("summary_written", PAT, ACTIVE, "update", SUMMARY, F, "unsupported_action", F),
    ("summary_deleted_by_pro", TD, ACTIVE, "delete", SUMMARY, F, "unsupported_action", F),
    # --- caregivers: what the patient reads, adding, the agenda; never the patient's decisions ---
    ("caregiver_reads_doc", CG, HELPED, "read", LAB, T, "caregiver", F),
    ("caregiver_reads_masked", CG, HELPED, "read", MASKED, T, "caregiver", F),
    ("caregiver_invisible", CG, HELPED, "read", INVIS_NEW, F, "invisible_to_patient", T),
    ("caregiver_invisible_30_days", CG, HELPED, "read", INVIS_30, T, "caregiver", F),
    ("caregiver_invisible_event", CG, HELPED, "read", INVISIBLE_EVENT, F, "invisible_to_patient", T),
    ("caregiver_deposits", CG, HELPED, "create", NEW_DOC, T, "caregiver", F),
    ("caregiver_deposits_invisible", CG, HELPED, "create", NEW_INVIS, F, "invisible_reserved_to_professionals", F),
    ("caregiver_masks", CG, HELPED, "mask", LAB, F, "caregiver_may_not", F),
    ("caregiver_deletes_doc", CG, HELPED, "delete", LAB, F, "caregiver_may_not", F),
    ("caregiver_updates_doc", CG, HELPED, "update", LAB, F, "caregiver_may_not", F),
    ("caregiver_releases", CG, HELPED, "release", LAB, F, "caregiver_may_not", F),
    ("caregiver_reads_profile", CG, HELPED, "read", PROFILE, T, "caregiver", F),
    ("caregiver_adds_profile", CG, HELPED, "create", PROFILE, T, "caregiver", F),
    ("caregiver_deletes_profile", CG, HELPED, "delete", PROFILE, F, "caregiver_may_not", F),
    ("caregiver_updates_profile", CG, HELPED, "update", PROFILE, F, "caregiver_may_not", F),
    ("caregiver_adds_measurement", CG, HELPED, "create", MEAS, T, "caregiver", F),
    ("caregiver_reads_agenda", CG, HELPED, "read", AGENDA, T, "caregiver", F),
    ("caregiver_adds_agenda", CG, HELPED, "create", AGENDA, T, "caregiver", F),
    ("caregiver_updates_agenda", CG, HELPED, "update", AGENDA_BY_G1, T, "caregiver", F),
    ("caregiver_deletes_agenda", CG, HELPED, "delete", AGENDA_BY_CG, F, "caregiver_may_not", F),
    ("caregiver_reads_activity", CG, HELPED, "read", ACTIVITY, T, "caregiver", F),
    ("caregiver_reads_space", CG, HELPED, "read", SPACE, T, "caregiver", F),
    ("caregiver_reads_settings", CG, HELPED, "read", SETTINGS, F, "caregiver_may_not", F),
    ("caregiver_manages_access", CG, HELPED, "manage_access", SETTINGS, F, "caregiver_may_not", F),
    ("caregiver_reads_summary", CG, HELPED, "read", SUMMARY, T, "caregiver", F),
    ("caregiver_writes_summary", CG, HELPED, "update", SUMMARY, F, "unsupported_action", F),
    ("caregiver_connects_app", CG, HELPED, "create", CONN, F, "caregiver_may_not", F),
    ("caregiver_reads_connections", CG, HELPED, "read", CONN, F, "caregiver_may_not", F),
    ("caregiver_exports", CG, HELPED, "read", EXPORT, F, "caregiver_may_not", F),
    ("caregiver_reads_messages", CG, HELPED, "read", CONV, F, "caregiver_may_not", F),
    ("caregiver_messages", CG, HELPED, "message", CONV, F, "caregiver_may_not", F),
    ("caregiver_closes", CG, HELPED, "delete", SPACE, F, "caregiver_may_not", F),
    ("caregiver_updates_space", CG, HELPED, "update", SPACE, F, "caregiver_may_not", F),
    ("caregiver_searches", CG, HELPED, "search", SPACE, F, "caregiver_may_not", F),
    ("caregiver_lists_caregiving", CG, HELPED, "read", CAREGIVING, T, "caregiver", F),
    ("caregiver_leaves", CG, HELPED, "delete", CAREGIVING_CG, T, "caregiver", F),
    ("caregiver_ends_another", CG, HELPED, "delete", CAREGIVING_CI, F, "caregiver_may_not", F),
    ("caregiver_invites", CG, HELPED, "create", CAREGIVING, F, "caregiver_may_not", F),
    ("caregiver_invited_reads", CI, HELPED, "read", LAB, F, "caregiving_not_active", F),
    ("caregiver_ended_reads", CE, HELPED, "read", LAB, F, "caregiving_not_active", F),
    ("caregiver_elsewhere", CX, HELPED, "read", LAB, F, "not_caregiver", T),
    ("caregiver_of_other_space", CG, ACTIVE, "read", LAB, F, "not_caregiver", T),
    ("caregiver_closed_space", CG, HELPED_CLOSED, "read", ACTIVITY, F, "space_not_open", T),
    ("caregiver_on_a_minor", CG, HELPED_MINOR, "read", LAB, F, "caregiving_not_active", F),
    ("caregiver_beside_a_guardian", CG, HELPED_GUARDED, "read", LAB, T, "caregiver", F),
    ("patient_invites_caregiver", PAT, HELPED, "create", CAREGIVING, T, "patient_own_space", F),
    ("patient_ends_caregiving", PAT, HELPED, "delete", CAREGIVING_CG, T, "patient_own_space", F),
    ("minor_invites_caregiver", KID, CHILD, "create", CAREGIVING, F, "managed_by_representatives", F),
    ("rep_invites_caregiver", R1, CHILD, "create", CAREGIVING, F, "holder_only", F),
    ("rep_lists_caregiving", R1, CHILD, "read", CAREGIVING, F, "holder_only", F),
    ("guardian_invites_caregiver", GU, GUARDED, "create", CAREGIVING, F, "holder_only", F),
    ("treating_lists_caregiving", TD, HELPED, "read", CAREGIVING, F, "patient_only", F),
    ("app_lists_caregiving", APP_FULL, HELPED, "read", CAREGIVING, F, "app_not_allowed", F),
    ("caregiving_unsupported", PAT, HELPED, "mask", CAREGIVING, F, "unsupported_action", F),
]
# fmt: on


@pytest.mark.parametrize(
    "actor, space_, action, resource, allowed, reason, hide",
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_decision_table(actor, space_, action, resource, allowed, reason, hide):
    assert decide(actor, space_, action, resource, NOW) == Decision(allowed, reason, hide)


def test_table_is_large_and_ids_unique():
    assert len(ROWS) >= 60
    assert len({row[0] for row in ROWS}) == len(ROWS)


def test_matrix_covers_every_profession_and_only_known_types():
    assert (
        set(PROFESSION_READABLE_DOCUMENT_TYPES)
        == PROFESSIONS
        == {
            "medecin",
            "pharmacien",
            "infirmier",
            "sage_femme",
            "chirurgien_dentiste",
            "masseur_kinesitherapeute",
            "pedicure_podologue",
            "medecin_du_travail",
        }
    )
    for types in PROFESSION_READABLE_DOCUMENT_TYPES.values():
        assert types <= set(DOCUMENT_TYPES)
    assert "hospital_report" not in PROFESSION_READABLE_DOCUMENT_TYPES["pedicure_podologue"]


def test_majority_day():
    assert majority_day(date(2008, 1, 31)) == date(2026, 1, 31)
    assert majority_day(date(2008, 2, 29)) == date(2026, 3, 1)  # no 29 February in 2026
    assert majority_day(date(2012, 2, 29)) == date(2030, 3, 1)
    assert majority_day(date(2010, 2, 28)) == date(2028, 2, 28)


def test_inputs_are_immutable_and_copied():
    grants = {"G1": None}
    built = Space("P1", "active", grants=grants)
    grants["S1"] = None  # the caller's dict changing later does not change the space
    assert "S1" not in built.grants
    with pytest.raises(TypeError):
        built.grants["S1"] = None  # type: ignore[index]  # what the test tries: a read-only mapping
    with pytest.raises(FrozenInstanceError):
        built.status = "closed"  # type: ignore[misc]  # what the test tries: a frozen dataclass
    assert Space("P1", "active").grants == {}
    assert hash(built) == hash(Space("P1", "active", grants={"G1": None}))


def test_policy_module_imports_nothing_heavy():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; import chalicelib.core.policy.decision; "
        "bad = [m for m in ('boto3', 'botocore', 'chalice', 'pydantic') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == ""
