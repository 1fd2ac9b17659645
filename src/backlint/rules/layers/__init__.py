"""Layer rules: import boundaries between file roles (BL421) and layer naming (BL611, BL612)."""
