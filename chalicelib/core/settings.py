"""The one place the environment is read. Every module asks ``settings()``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache


def _list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    region: str = "eu-west-3"
    table_name: str = "mes-local"
    documents_bucket: str = ""
    messages_bucket: str = ""
    purge_topic_arn: str = ""
    data_key_id: str = "alias/mes-local"
    peppers_secret_id: str = "mes/local/peppers"  # noqa: S105 - the secret's name, not a secret
    cursor_secret_id: str = "mes/local/cursors"  # noqa: S105 - the secret's name, not a secret
    letters_queue_url: str = ""
    timers_queue_url: str = ""
    enrolment_state_machine_arn: str = ""
    import_bucket: str = ""  # where legacy DMP archives (IHE XDM) are put for a migration
    import_queue_url: str = ""
    legacy_import_state_machine_arn: str = ""
    # The activity history's signed heads (core.history.heads): where they are kept, what signs them.
    heads_bucket: str = ""
    heads_key_id: str = ""
    # MSSanté (docs/api.md § MSSanté): where SES writes the raw inbound mail; the patients' mail domain.
    inbound_mail_bucket: str = ""
    directory_bucket: str = ""  # where the national directory's extract is put for its nightly import
    mail_domain: str = "patient.mssante.fr"
    sender_email: str = "no-reply@monespacesante.example"
    # Authentication: trusted issuers and where their keys are (inline JWKS or a URL).
    token_issuers: tuple[str, ...] = ()
    token_audience: str = "mon-espace-sante-api"  # noqa: S105 - an audience, not a secret
    jwks_json: str = ""
    jwks_url: str = ""
    cors_allowed_origins: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_environ(cls) -> Settings:
        env = os.environ.get
        return cls(
            stage=env("STAGE", "local"),
            region=env("AWS_REGION", env("AWS_DEFAULT_REGION", "eu-west-3")),
            table_name=env("TABLE_NAME", "mes-local"),
            documents_bucket=env("DOCUMENTS_BUCKET", ""),
            messages_bucket=env("MESSAGES_BUCKET", ""),
            purge_topic_arn=env("PURGE_TOPIC_ARN", ""),
            data_key_id=env("DATA_KEY_ID", "alias/mes-local"),
            peppers_secret_id=env("PEPPERS_SECRET_ID", "mes/local/peppers"),
            cursor_secret_id=env("CURSOR_SECRET_ID", "mes/local/cursors"),
            letters_queue_url=env("LETTERS_QUEUE_URL", ""),
            timers_queue_url=env("TIMERS_QUEUE_URL", ""),
            enrolment_state_machine_arn=env("ENROLMENT_STATE_MACHINE_ARN", ""),
            import_bucket=env("IMPORT_BUCKET", ""),
            import_queue_url=env("IMPORT_QUEUE_URL", ""),
            legacy_import_state_machine_arn=env("LEGACY_IMPORT_STATE_MACHINE_ARN", ""),
            heads_bucket=env("HEADS_BUCKET", ""),
            heads_key_id=env("HEADS_KEY_ID", ""),
            inbound_mail_bucket=env("INBOUND_MAIL_BUCKET", ""),
            directory_bucket=env("DIRECTORY_BUCKET", ""),
            mail_domain=env("MAIL_DOMAIN", "patient.mssante.fr"),
            sender_email=env("SENDER_EMAIL", "no-reply@monespacesante.example"),
            token_issuers=_list("TOKEN_ISSUERS"),
            token_audience=env("TOKEN_AUDIENCE", "mon-espace-sante-api"),
            jwks_json=env("JWKS_JSON", ""),
            jwks_url=env("JWKS_URL", ""),
            cors_allowed_origins=_list("CORS_ALLOWED_ORIGINS"),
        )

    def module_table(self, kind: str) -> str:
        """The table of a module's data, fixed per stage (infra/tables.py: mes-<stage>-<kind>)."""
        return f"mes-{self.stage}-{kind}"

    def queue_name(self, purpose: str) -> str:
        """A queue a function is subscribed to by name, fixed per stage (infra/template.yaml:
        mes-<stage>-<purpose>): Chalice needs the name when the module is imported."""
        return f"mes-{self.stage}-{purpose}"

    def bucket(self, kind: str) -> str:
        """The bucket of a module's content (core.security.blobs.Bucket): documents or messages."""
        return {"documents": self.documents_bucket, "messages": self.messages_bucket}[kind]


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environ()
