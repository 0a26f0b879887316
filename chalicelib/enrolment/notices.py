"""The French texts of enrolment notifications. No INS, no name, no health content.

A minor's notices go to their legal representatives (core.policy.notify.recipients), worded for them:
the space is the child's, and they answer with the child's INS and birth date.
"""

from __future__ import annotations

from chalicelib.core import clock


def _day(deadline: str) -> str:
    return clock.parse_iso(deadline).strftime("%d/%m/%Y")


def _space(for_representative: bool) -> str:
    return (
        "l'espace Mon espace santé de l'enfant dont vous êtes représentant légal"
        if for_representative
        else "votre espace Mon espace santé"
    )


def invitation(code: str, deadline: str, for_representative: bool = False) -> tuple[str, str]:
    if for_representative:
        intro = (
            "L'Assurance Maladie crée Mon espace santé pour l'enfant dont vous êtes représentant légal : "
            "son espace numérique personnel et sécurisé pour conserver et partager ses informations de "
            "santé. Vous le gérerez jusqu'à ses 18 ans.\n\n"
        )
        how = "avec ce code, le numéro de sécurité sociale de l'enfant et sa date de naissance"
    else:
        intro = (
            "L'Assurance Maladie crée pour vous Mon espace santé, votre espace numérique personnel et "
            "sécurisé pour conserver et partager vos informations de santé.\n\n"
        )
        how = "avec ce code"
    return (
        "Votre profil Mon espace santé",
        "Madame, Monsieur,\n\n"
        f"{intro}"
        f"Code provisoire : {code}\n"
        f"Date limite : {_day(deadline)}\n\n"
        f"Avant cette date, vous pouvez activer {_space(for_representative)} sur monespacesante.fr {how}, "
        "ou vous opposer à sa création. Sans réponse de votre part, l'espace sera créé "
        "automatiquement ; vous pourrez le fermer à tout moment.\n\n"
        "L'Assurance Maladie",
    )


def reminder(deadline: str, for_representative: bool = False) -> tuple[str, str]:
    return (
        "Rappel : Mon espace santé",
        "Madame, Monsieur,\n\n"
        f"Il vous reste jusqu'au {_day(deadline)} pour activer {_space(for_representative)} ou vous opposer à sa "
        "création, avec le code provisoire reçu dans notre premier message. Sans réponse de votre "
        "part, l'espace sera créé automatiquement.\n\n"
        "L'Assurance Maladie",
    )


def auto_created(at: str, for_representative: bool = False) -> tuple[str, str]:
    return (
        "Votre espace Mon espace santé a été créé",
        "Madame, Monsieur,\n\n"
        f"Sans réponse de votre part, {_space(for_representative)} a été créé le {_day(at)}. "
        "Vous pouvez l'activer avec le code provisoire sur monespacesante.fr, ou le fermer à "
        "tout moment.\n\n"
        "L'Assurance Maladie",
    )


def caregiver_invitation(code: str, expires_at: str, for_representative: bool = False) -> tuple[str, str]:
    """To the person an adult invites as their caregiver: neither of them is named (a notice names
    nobody); they accept with their own login."""
    return (
        "Invitation à devenir aidant sur Mon espace santé",
        "Madame, Monsieur,\n\n"
        "Une personne vous a désigné comme son aidant (proche aidant) sur Mon espace santé : vous "
        "pourrez l'aider à tenir son dossier (consulter ses documents, en ajouter, tenir son agenda), "
        "en vous connectant avec votre propre compte.\n\n"
        f"Code aidant : {code}\n"
        f"Date limite : {_day(expires_at)}\n\n"
        "Pour accepter, connectez-vous sur monespacesante.fr avec votre propre compte et saisissez ce code "
        "avant cette date. Si vous ne connaissez pas cette invitation, ignorez ce message.\n\n"
        "L'Assurance Maladie",
    )
