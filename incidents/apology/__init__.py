"""Apology letters signed by named, accountable people, and the apology check (DOMAIN.md 5)."""
