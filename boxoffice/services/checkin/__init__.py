"""Check-in: attendees per ticket unit, their search, admission at the door, add-on redemption, registrations from the web system."""
