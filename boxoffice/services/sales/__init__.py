"""Selling at the desk: the catalogue, carts, checkout, orders and their search, customers."""
