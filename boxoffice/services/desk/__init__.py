"""The desk itself: cash drawer shifts and their report, desk settings, the change feed."""
