"""Desk GUI: models."""
