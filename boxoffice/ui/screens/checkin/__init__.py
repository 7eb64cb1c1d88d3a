"""The Check-in screen: scan or search, a large result per scan, and the live dashboard."""
