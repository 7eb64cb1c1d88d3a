"""Administration: catalogue editing and conference import."""
