"""Rules about what backends write to their logs (BL811)."""
