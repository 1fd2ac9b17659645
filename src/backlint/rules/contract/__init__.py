"""Rules about the HTTP API contract a change must keep (change-scoped)."""
