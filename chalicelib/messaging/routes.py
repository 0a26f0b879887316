"""Messaging endpoints (docs/api.md § Messaging)."""

from __future__ import annotations

from chalicelib.core.http.api import CONTENT_BODY_LIMIT, Call, Router, page_query, roles

router = Router(__name__, tag="messaging")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.messaging import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.messaging import service

    return service


OPENERS = roles("professional", "patient", note="professionals open conversations; a patient gets 403")
PARTICIPANTS = roles(
    "professional",
    "patient",
    note="the conversation's two participants (the patient's side: the holder, "
    "or a legal representative or guardian acting for them); anyone else gets 404",
)
BASE = "/v1/conversations"
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "text/plain")  # models.MediaType


@router.route(
    BASE,
    "POST",
    access=OPENERS,
    body=lambda: models().ConversationCreate,
    response=lambda: models().Opened,
    status=201,
    body_limit=CONTENT_BODY_LIMIT,
)
def open_conversation(call: Call):
    """Opens a conversation with a patient, with its first message (professionals only)."""
    return service().open_conversation(call.principal, call.body)


@router.route(BASE, "GET", access=PARTICIPANTS, query=page_query, response=lambda: models().ConversationPage)
def list_conversations(call: Call):
    """The caller's conversations and those of the spaces they manage (each item's patient_id says
    whose), newest activity first, with their unread counts."""
    return service().list_conversations(call.principal, call.query.limit, call.query.cursor)


@router.route(
    BASE + "/{conversation_id}/messages",
    "GET",
    access=PARTICIPANTS,
    query=lambda: models().MessageQuery,
    response=lambda: models().MessagePage,
)
def list_messages(call: Call, conversation_id: str):
    """A conversation's messages, oldest first; marks them read for the caller."""
    return service().list_messages(call.principal, conversation_id, call.query.limit, call.query.cursor)


@router.route(
    BASE + "/{conversation_id}/messages",
    "POST",
    access=PARTICIPANTS,
    body=lambda: models().MessageCreate,
    response=lambda: models().Sent,
    status=201,
    body_limit=CONTENT_BODY_LIMIT,
)
def reply(call: Call, conversation_id: str):
    """Writes a message in a conversation (either participant)."""
    return service().reply(call.principal, conversation_id, call.body)


@router.route(
    BASE + "/{conversation_id}/messages/{message_id}/attachments/{index}",
    "GET",
    access=PARTICIPANTS,
    raw_content_type=ATTACHMENT_TYPES,
)
def attachment(call: Call, conversation_id: str, message_id: str, index: str):
    """An attachment's bytes, with its media type as Content-Type."""
    return service().attachment(call.principal, conversation_id, message_id, index)


# --- the MSSanté directory (docs/api.md § MSSanté) ----------------------------------------------
DIRECTORY_ADMIN = roles("directory_admin")
DIRECTORY = "/v1/mssante/directory/{address}"


def directory():
    from chalicelib.messaging import directory

    return directory


def _address(path_value: str) -> str:
    """The address as written, whether or not the client percent-encoded its "@"."""
    from urllib.parse import unquote

    return unquote(path_value)


@router.route(
    DIRECTORY,
    "PUT",
    access=DIRECTORY_ADMIN,
    body=lambda: models().DirectoryEntryIn,
    response=lambda: models().DirectoryEntry,
)
def put_directory_entry(call: Call, address: str):
    """Puts a mailbox of the trust space (a subdomain of mssante.fr) into the directory, or replaces it."""
    return directory().put(_address(address), call.body)


@router.route(DIRECTORY, "GET", access=DIRECTORY_ADMIN, response=lambda: models().DirectoryEntry)
def get_directory_entry(call: Call, address: str):
    """A mailbox of the directory (addresses compare case-insensitively)."""
    return directory().get(_address(address))


@router.route(DIRECTORY, "DELETE", access=DIRECTORY_ADMIN, status=204)
def delete_directory_entry(call: Call, address: str):
    """Takes a mailbox out of the directory: it may no longer write to patients."""
    directory().delete(_address(address))
