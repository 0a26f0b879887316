"""Command-line tools run by operators against the API (not deployed with the Lambda)."""
