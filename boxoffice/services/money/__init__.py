"""Money: cash, manual, comp and credit payments, card payments and readers, refunds, store credit."""
