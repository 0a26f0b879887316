"""HTTP: routing with per-route body limits, strict JSON, the contract's errors on the wire, the
OpenAPI document, sealed list cursors, and the field types request models share."""
