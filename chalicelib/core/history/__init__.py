"""History: each space's activity history, append-only and hash-chained (the pure chain and the
commit that appends events in the same transaction as the change they record)."""
