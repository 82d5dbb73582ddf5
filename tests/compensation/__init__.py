"""Tests of compensation and the authority funnel (DOMAIN.md sections 3-4)."""
