"""BL9: database migrations that cannot be rolled back (quality gate PQG-5)."""
