"""The Sync screen: stored Stripe events, processing exceptions, Retry and Retry all."""
