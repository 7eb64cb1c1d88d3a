"""Desk GUI: orders."""
