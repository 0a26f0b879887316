"""Data: AWS clients, the table's key layout, sharded counters, concurrent calls, reading a space's
access inputs, and the purge fan-out."""
