"""Desk GUI: credits."""
