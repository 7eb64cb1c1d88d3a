"""Badges screen (admins): the badge template editor with its live preview, and printing one badge."""
