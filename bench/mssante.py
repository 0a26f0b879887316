"""MSSanté mail through SMTP on moto (docs/api.md § MSSanté): messages delivered per second by the
local mail exchanger (devstack/smtp_server.py, aiosmtpd, one client at a time as a professional's
software sends), and the AWS calls a delivered message costs (its envelope checks, SES's put of the
raw message, the inbound function's work), counted in this process on the very path DATA takes.
"""

from __future__ import annotations

import argparse
import smtplib
import time
from email import policy
from email.message import EmailMessage

from bench.harness import active_person, calls_table, cloud, count_calls

DOCTOR = "dr.martin@hopital-nord.mssante.fr"
PDF = b"%PDF-1.7\n" + b"Compte rendu\n" * 2000 + b"%%EOF"


def message(to: str, n: int, attachment: bool) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = DOCTOR, to, f"Résultats {n}"
    mail["Message-ID"] = f"<bench-{n}-{attachment}@hopital-nord.mssante.fr>"
    mail.set_content("Bonjour, vos résultats sont normaux.\n")
    if attachment:
        mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="compte-rendu.pdf")
    return mail.as_bytes(policy=policy.SMTP)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench mssante")
    parser.add_argument("-n", type=int, default=100, help="messages sent through SMTP")
    args = parser.parse_args(argv)
    from chalicelib.core.security import pseudonyms
    from chalicelib.messaging import events
    from devstack.run import free_port
    from devstack.smtp_server import MailExchanger, deliver

    with cloud() as bench:
        admin = bench.token("directory_admin")
        entry = {"rpps": "10000000009", "name": "Dr Martin", "profession": "medecin"}
        bench.call("PUT", f"/v1/mssante/directory/{DOCTOR}", entry, admin)
        person, _, _ = active_person(bench)
        to = f"{person['ins'].lower()}@patient.mssante.fr"
        pseudonyms.ins_digest("warm-up")
        deliver(message(to, -1, True), DOCTOR, [to])  # KMS cache, as a warm container
        rows = []
        for attachment in (False, True):
            with count_calls() as calls:
                assert events.check_sender(DOCTOR) is None and events.check_recipient(to, 0) is None
                reply = deliver(message(to, 0, attachment), DOCTOR, [to])
                assert reply.code == 250, reply.line
            label = "a new conversation" + (" with a 26 kB PDF" if attachment else "")
            rows.append((f"MAIL + RCPT + DATA: {label}", calls))
        calls_table(rows)

        server = MailExchanger(port=free_port())
        server.start()
        try:
            for attachment in (False, True):
                started = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", server.port, timeout=60) as client:
                    for n in range(1, args.n + 1):
                        client.sendmail(DOCTOR, [to], message(to, n, attachment))
                seconds = time.perf_counter() - started
                kind = "with a PDF" if attachment else "text only"
                print(f"\n{args.n} messages ({kind}) through SMTP on moto: {args.n / seconds:.1f} delivered per second")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
