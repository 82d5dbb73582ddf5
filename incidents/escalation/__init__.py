"""Duty rotation, notifications and escalation, and the abusive-customer protocol
(DOMAIN.md sections 2, 6 and 7)."""
