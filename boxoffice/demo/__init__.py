"""The demo conference seeded into an empty database, so a new desk can sell straight away."""
