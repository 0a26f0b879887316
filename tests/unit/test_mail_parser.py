"""The MSSanté parser (chalicelib/messaging/mail.py) on real-world-shaped messages, and on anything at all:
a message is read, or refused with a 5xx reply; the parser never raises anything else."""

from __future__ import annotations

import base64
import quopri

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.messaging import mail
from tests.examples import examples

PDF = b"%PDF-1.4\n" + bytes(range(256)) + b"\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HEAD = "From: =?utf-8?q?Dr_Fran=C3=A7oise_L=C3=A9vy?= <f.levy@clinique-est.mssante.fr>\r\nTo: x@patient.mssante.fr\r\n"


def raw(text: str, charset: str = "latin-1") -> bytes:
    """CRLF line ends, as on the wire."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode(charset)


def test_multipart_alternative_prefers_the_plain_text():
    parsed = mail.parse(
        raw(
            HEAD + "Subject: =?iso-8859-1?q?Compte_rendu_d'=E9chographie?=\n"
            "Message-ID: <cr-1@clinique-est.mssante.fr>\n"
            'Content-Type: multipart/alternative; boundary="alt"\n\n'
            "--alt\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
            + quopri.encodestring("Échographie normale, à revoir dans un an.".encode("latin-1")).decode("latin-1")
            + "\n--alt\nContent-Type: text/html; charset=utf-8\n\n<p>HTML</p>\n--alt--\n"
        )
    )
    assert parsed.sender == "f.levy@clinique-est.mssante.fr"
    assert parsed.subject == "Compte rendu d'échographie"
    assert parsed.body == "Échographie normale, à revoir dans un an."
    assert parsed.message_id == "<cr-1@clinique-est.mssante.fr>" and parsed.attachments == []


def test_nested_mixed_with_base64_attachments_and_html_only_text():
    html = base64.b64encode("<div>Résultats <b>joints</b></div><div>Cordialement</div>".encode()).decode()
    message = (
        HEAD + "Subject: Analyses\nIn-Reply-To: <r2@x>\nReferences: <r0@x> <r1@x> <r2@x>\n"
        'Content-Type: multipart/mixed; boundary="out"\n\n'
        '--out\nContent-Type: multipart/related; boundary="rel"\n\n'
        '--rel\nContent-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: base64\n\n' + html + "\n"
        "--rel--\n"
        '--out\nContent-Type: application/pdf; name="bilan.pdf"\nContent-Disposition: attachment; '
        'filename="bilan.pdf"\nContent-Transfer-Encoding: base64\n\n' + base64.b64encode(PDF).decode() + "\n"
        '--out\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="scan"\n'
        "Content-Transfer-Encoding: base64\n\n" + base64.b64encode(PNG).decode() + "\n--out--\n"
    )
    parsed = mail.parse(raw(message))
    assert parsed.body == "Résultats joints\n\nCordialement"
    assert [(a.filename, a.media_type, a.data) for a in parsed.attachments] == [
        ("bilan.pdf", "application/pdf", PDF),
        ("scan", "image/png", PNG),  # octet-stream: its bytes say what it is
    ]
    assert parsed.references == ["<r2@x>", "<r1@x>", "<r0@x>"]  # In-Reply-To, then newest first


def test_utf8_8bit_and_rfc2047_filenames():
    message = (
        HEAD + "Subject: =?utf-8?b?" + base64.b64encode("Ordonnance – J+3".encode()).decode() + "?=\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n'
        "--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nPosologie : 2 × par jour\n"
        "--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
        'filename="=?utf-8?q?ordonnance_=C3=A9t=C3=A9.pdf?="\nContent-Transfer-Encoding: base64\n\n'
        + base64.b64encode(PDF).decode()
        + "\n--b--\n"
    )
    parsed = mail.parse(raw(message, "utf-8"))
    assert parsed.subject == "Ordonnance – J+3" and parsed.body == "Posologie : 2 × par jour"
    assert parsed.attachments[0].filename == "ordonnance été.pdf"


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        ("To: x@patient.mssante.fr\r\nSubject: s\r\n\r\nx", mail.NOT_IN_DIRECTORY),  # no From
        (HEAD.replace("From:", "From: a@b.mssante.fr, c@d.mssante.fr\r\nX-Was:") + "\r\nx", mail.NOT_IN_DIRECTORY),
        (HEAD + "From: other@b.mssante.fr\r\n\r\nx", mail.NOT_IN_DIRECTORY),  # repeated
        (HEAD + "Content-Type: application/zip\r\n\r\nPK\x03\x04", mail.ATTACHMENT_REFUSED),
        (HEAD + "\r\n" + "x" * (mail.MAX_BODY + 1), mail.BODY_TOO_LONG),
    ],
)
def test_refusals(message, reply):
    with pytest.raises(mail.Refused) as refused:
        mail.parse(message.encode("latin-1"))
    assert refused.value.reply == reply


def test_a_text_attachment_in_latin_1_is_kept_as_utf_8():
    message = (
        HEAD + 'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nVoir la note.\n'
        '--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Disposition: attachment; filename="note.txt"\n'
        "Content-Transfer-Encoding: quoted-printable\n\nFi=E8vre =E0 39=B0C\n--b--\n"
    )
    (note,) = mail.parse(raw(message)).attachments
    assert (note.filename, note.media_type, note.data) == ("note.txt", "text/plain", "Fièvre à 39°C".encode())


def test_a_missing_subject_and_a_long_one():
    assert mail.parse((HEAD + "\r\nx").encode()).subject == mail.NO_SUBJECT
    long = mail.parse((HEAD + "Subject: " + "a " * 300 + "\r\n\r\nx").encode()).subject
    assert len(long) == mail.MAX_SUBJECT and long.endswith("…")


def test_patient_addresses():
    assert mail.patient_ins("185027500000196@patient.mssante.fr") == "185027500000196"
    assert mail.patient_ins("185027500000196@PATIENT.MSSANTE.FR") == "185027500000196"
    for bad in ("185027500000197@patient.mssante.fr", "18502750000019@patient.mssante.fr", "x@patient.mssante.fr"):
        assert mail.patient_ins(bad) is None
    assert mail.in_trust_space("a.b@hopital.mssante.fr") and not mail.in_trust_space("a@patient.mssante.fr")


def test_html_text():
    assert mail.html_text("<p>a&nbsp;&amp;&eacute;</p><script>x()</script><style>p{}</style>b") == "a &é\nb"


MIME_PIECES = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=z\r\n",
        b"Content-Type: text/plain; charset=klingon\r\n",
        b"Content-Type: text/html\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%FF%FE\r\n",
        b"Subject: =?utf-8?b?////?=\r\n",
        b"From: <@>\r\n",
        b"\r\n",
        b"--z\r\n",
        b"--z--\r\n",
        b"%PDF-",
        b"=\r\n",
    ]
)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(MIME_PIECES, st.binary(max_size=64)), max_size=40))
def test_anything_is_read_or_refused_with_a_5xx(pieces):
    message = HEAD.encode() + b"".join(pieces)
    try:
        parsed = mail.parse(message)
    except mail.Refused as refused:
        assert 500 <= refused.reply.code < 600
    else:
        assert isinstance(parsed.body, str) and len(parsed.body) <= mail.MAX_BODY
        assert "\x00" not in parsed.body and len(parsed.subject) <= mail.MAX_SUBJECT
        assert all(a.media_type in mail.ATTACHMENT_TYPES and a.data for a in parsed.attachments)


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_are_read_or_refused_with_a_5xx(data):
    try:
        mail.parse(data)
    except mail.Refused as refused:
        assert 500 <= refused.reply.code < 600


def report_of(raw_message: bytes) -> tuple[bytes, list]:
    """The refusal's notification of ``raw_message`` as sent, and its parts read back."""
    from email import policy
    from email.parser import BytesParser

    sent = mail.delivery_status(
        mail.UNREADABLE, raw_message, "f.levy@clinique-est.mssante.fr", ["x@patient.mssante.fr"]
    )
    report = BytesParser(policy=policy.default).parsebytes(sent)
    assert report.get_content_type() == "multipart/report" and report["To"] == "f.levy@clinique-est.mssante.fr"
    return sent, list(report.iter_parts())


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=4096))
def test_a_refusals_notification_is_7_bit_mail_whatever_the_message(data):
    """SES sends it as it is: ASCII, lines within SMTP's 998, three parts, whatever bytes were refused."""
    sent, parts = report_of(data)
    assert sent.isascii() and all(len(line) <= 998 for line in sent.split(b"\r\n"))
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status", "text/rfc822-headers"]


def test_a_refusals_notification_holds_the_header_section_only_and_at_most_64_kib():
    header = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 900) for i in range(300))
    _, (_, _, headers) = report_of(header + b"\r\nLe texte du message")
    text = headers.get_content()
    assert text.startswith("X-Filler-0: ") and "Le texte" not in text
    assert len(text.encode()) <= mail.MAX_REPORTED_HEADERS and text.rstrip("\r\n").endswith("a")  # cut at a line's end
