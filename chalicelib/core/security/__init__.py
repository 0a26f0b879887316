"""Security: bearer tokens, envelope encryption under KMS, keyed pseudonyms, French health
identifiers (INS, RPPS, professions), and encrypted content kept in S3."""
