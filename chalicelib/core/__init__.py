"""The kernel every module stands on, by job (docs/architecture.md § The kernel).

Here, what every job uses and that uses nothing of the kernel: the clock, the settings (the one
place the environment is read), logs, ids, the domain errors and the models' bases. Each
sub-package owns one job and may use only those below it:

    http      routing, strict JSON, OpenAPI, cursors, the shared field types
    policy    the access decision, the profession matrix, the gate, who is told
    history   the activity history: the chain and its commit
    security  tokens, encryption, pseudonyms, identifiers, encrypted content in S3
    data      AWS clients, the table's key layout, counters, concurrency, spaces, purge

tests/unit/test_module_boundaries.py holds these directions.
"""
