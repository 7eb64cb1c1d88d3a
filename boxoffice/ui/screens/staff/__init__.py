"""Staff administration screen (admins)."""
