"""The French text of the new-message notification: no content, no subject, no name, no INS."""

from __future__ import annotations


def new_message() -> tuple[str, str]:
    return (
        "Vous avez un nouveau message sur Mon espace santé",
        "Madame, Monsieur,\n\n"
        "Vous avez un nouveau message sur Mon espace santé.\n"
        "Pour le lire, connectez-vous à votre espace sur monespacesante.fr, rubrique Messagerie.\n\n"
        "Pour protéger vos données de santé, le contenu des messages n'est jamais envoyé par "
        "courriel.\n\n"
        "L'Assurance Maladie",
    )
