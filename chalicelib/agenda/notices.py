"""The French text of the agenda reminder: the date only. Neither the event's title nor its kind
(an appointment's title or a hospitalisation is health information), no name, no INS."""

from __future__ import annotations

from datetime import datetime


def _paris(moment: datetime) -> tuple[datetime, str]:
    try:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo("Europe/Paris")), "heure de Paris"
    except Exception:  # noqa: BLE001 - no time zone database: say UTC
        return moment, "UTC"


def reminder(start: datetime) -> tuple[str, str]:
    local, zone = _paris(start)
    return (
        "Rappel : un événement de votre agenda Mon espace santé",
        "Madame, Monsieur,\n\n"
        f"Un événement de votre agenda Mon espace santé est prévu le {local.strftime('%d/%m/%Y')} "
        f"à {local.strftime('%H:%M')} ({zone}).\n"
        "Retrouvez-le sur monespacesante.fr, rubrique Agenda.\n\n"
        "L'Assurance Maladie",
    )
