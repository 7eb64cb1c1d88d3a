"""Catalog administration screen (admins): ticket types, add-ons and vouchers."""
