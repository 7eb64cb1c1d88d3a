"""Card readers screen (Stripe Terminal)."""
