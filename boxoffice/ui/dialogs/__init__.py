"""Desk GUI: dialogs."""
