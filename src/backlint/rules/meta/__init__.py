"""BL0: findings about the run itself (unparsable files, unused suppressions)."""
