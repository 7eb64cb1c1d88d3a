"""Desk settings screen (admins) and the wiring of the admin screens."""
