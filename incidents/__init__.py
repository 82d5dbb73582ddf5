"""Incidents: detection to close, with their customers and timeline."""
