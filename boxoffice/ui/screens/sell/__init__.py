"""Desk GUI: sell."""
