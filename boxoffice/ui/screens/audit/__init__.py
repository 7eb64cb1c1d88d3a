"""Audit log screen (leads and admins): filter, read and export who did what."""
