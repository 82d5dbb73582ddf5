"""Compensation and the authority funnel (DOMAIN.md section 3)."""
