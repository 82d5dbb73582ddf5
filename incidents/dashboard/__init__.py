"""The operations dashboard: the figures that show whether incidents fester (DOMAIN.md 8)."""
