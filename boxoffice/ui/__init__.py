"""The desk GUI (PySide6 widgets); screens call services only."""
