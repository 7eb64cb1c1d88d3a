"""Domain: mapped classes and pure business rules (no sessions, no Qt, no Stripe)."""
