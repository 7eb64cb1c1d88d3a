"""Printing at the desk: the receipt model, ESC/POS receipts and the cash drawer, badge templates and badges."""
