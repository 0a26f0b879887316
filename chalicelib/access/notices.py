"""The French texts telling a patient their record was opened in emergency (break-glass, or by a SAMU
regulator doctor).

No INS, no name, no health content (not even the professional's stated reason): only that it
happened, when, and where to look.
"""

from __future__ import annotations

from datetime import datetime


def _opened(at: datetime, subject: str, who: str, refuse: str) -> tuple[str, str]:
    return (
        f"Mon espace santé : {subject}",
        "Madame, Monsieur,\n\n"
        f"Le {at.strftime('%d/%m/%Y')} à {at.strftime('%H:%M')} (heure UTC), {who} a "
        "accédé à votre dossier médical en urgence, pour une durée limitée.\n\n"
        "Vous pouvez consulter le détail de cet accès dans l'historique d'activité de votre espace "
        "sur monespacesante.fr. Dans vos paramètres, vous pouvez aussi bloquer un professionnel ou "
        f"refuser à l'avenir {refuse}.\n\n"
        "L'Assurance Maladie",
    )


def emergency_access(at: datetime) -> tuple[str, str]:
    return _opened(
        at, "accès en urgence à votre dossier", "un professionnel de santé", "l'accès en urgence à votre dossier"
    )


def regulation_access(at: datetime) -> tuple[str, str]:
    return _opened(
        at,
        "accès du SAMU (centre 15) à votre dossier",
        "un médecin régulateur du SAMU (centre 15)",
        "l'accès des médecins régulateurs du SAMU à votre dossier",
    )
