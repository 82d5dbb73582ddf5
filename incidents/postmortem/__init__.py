"""Blameless postmortems, their action items, and turning them into playbooks."""
