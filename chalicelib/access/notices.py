"""The French text telling a patient their record was opened in emergency.

No INS, no name, no health content (not even the professional's stated reason): only that it
happened, when, and where to look.
"""

from __future__ import annotations

from datetime import datetime


def emergency_access(at: datetime) -> tuple[str, str]:
    return (
        "Mon espace santé : accès en urgence à votre dossier",
        "Madame, Monsieur,\n\n"
        f"Le {at.strftime('%d/%m/%Y')} à {at.strftime('%H:%M')} (heure UTC), un professionnel de santé a "
        "accédé à votre dossier médical en urgence, pour une durée limitée.\n\n"
        "Vous pouvez consulter le détail de cet accès dans l'historique d'activité de votre espace "
        "sur monespacesante.fr. Dans vos paramètres, vous pouvez aussi bloquer un professionnel ou "
        "refuser à l'avenir l'accès en urgence à votre dossier.\n\n"
        "L'Assurance Maladie",
    )
