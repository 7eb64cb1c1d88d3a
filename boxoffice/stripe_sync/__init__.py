"""Stripe: the gateway (the only SDK caller), event polling and its handlers."""
