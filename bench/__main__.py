"""``python -m bench`` runs every benchmark (throughput on a 2,000-person cohort, to stay within
a few minutes); ``python -m bench NAME [args]`` runs one, e.g. ``enrolment_throughput -n 10000``."""

from __future__ import annotations

import importlib
import sys
import time

SUITE = [
    ("coldstart", "Cold start", []),
    ("calls_enrolment", "AWS calls per request: enrolment", []),
    ("code_lock", "Provisional-code lock under 64 concurrent wrong codes", []),
    ("cost_model", "Cost model: enrolment per million people", []),
    ("enrolment_throughput", "Auto-creation throughput", ["-n", "2000"]),
    ("calls_documents", "AWS calls per request: medical record", []),
    ("calls_fhir", "AWS calls per request: FHIR interface beside the native API", []),
    ("crypto", "Encryption throughput", []),
    ("calls_profile", "AWS calls per request: profile, catalogue, export", []),
    ("calls_messaging", "AWS calls per request: messaging and agenda", []),
    ("mssante", "MSSanté mail through SMTP: delivered per second, AWS calls per message", []),
    ("legacy_import", "Legacy DMP import: throughput and cost per million archives", []),
    ("portal", "Patient portal in Chromium: first load, documents list", []),
    ("calls_families", "AWS calls per request: a legal representative beside the patient", []),
    ("calls_emergency", "The emergency summary beside a profile read and the sections one by one", []),
    ("signed_heads", "Signed history heads: verify before and after, the signer's cost", []),
    ("package", "The package: functions, their sizes and permissions, checkov", []),
    ("load", "The local stack under load, over HTTP", []),
]


def main(argv: list[str]) -> None:
    names = [name for name, _, _ in SUITE]
    if argv and argv[0] not in names:
        sys.exit(f"usage: python -m bench [{'|'.join(names)} [args]]")
    for name, title, default_args in SUITE:
        if argv and argv[0] != name:
            continue
        print(f"\n== {title} ({name}) ==", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.{name}").main(argv[1:] if argv else default_args)
        print(f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
