"""Box Office: the on-site conference ticket desk."""

__version__ = "0.1.0"
