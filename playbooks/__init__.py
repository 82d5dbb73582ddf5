"""Playbooks: the letter to the future team (built in a later issue)."""
