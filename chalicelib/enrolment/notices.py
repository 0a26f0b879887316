"""The French texts of enrolment notifications. No INS, no name, no health content."""

from __future__ import annotations

from chalicelib.core import clock


def _day(deadline: str) -> str:
    return clock.parse_iso(deadline).strftime("%d/%m/%Y")


def invitation(code: str, deadline: str) -> tuple[str, str]:
    return (
        "Votre profil Mon espace santé",
        "Madame, Monsieur,\n\n"
        "L'Assurance Maladie crée pour vous Mon espace santé, votre espace numérique personnel et "
        "sécurisé pour conserver et partager vos informations de santé.\n\n"
        f"Code provisoire : {code}\n"
        f"Date limite : {_day(deadline)}\n\n"
        "Avant cette date, vous pouvez activer votre espace sur monespacesante.fr avec ce code, "
        "ou vous opposer à sa création. Sans réponse de votre part, votre espace sera créé "
        "automatiquement ; vous pourrez le fermer à tout moment.\n\n"
        "L'Assurance Maladie",
    )


def reminder(deadline: str) -> tuple[str, str]:
    return (
        "Rappel : Mon espace santé",
        "Madame, Monsieur,\n\n"
        f"Il vous reste jusqu'au {_day(deadline)} pour activer Mon espace santé ou vous opposer à sa "
        "création, avec le code provisoire reçu dans notre premier message. Sans réponse de votre "
        "part, votre espace sera créé automatiquement.\n\n"
        "L'Assurance Maladie",
    )


def auto_created(at: str) -> tuple[str, str]:
    return (
        "Votre espace Mon espace santé a été créé",
        "Madame, Monsieur,\n\n"
        f"Sans réponse de votre part, votre espace Mon espace santé a été créé le {_day(at)}. "
        "Vous pouvez l'activer avec votre code provisoire sur monespacesante.fr, ou le fermer à "
        "tout moment.\n\n"
        "L'Assurance Maladie",
    )
