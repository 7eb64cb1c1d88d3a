"""Desk GUI: widgets."""
