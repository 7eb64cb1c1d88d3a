"""Desk GUI: screens."""
