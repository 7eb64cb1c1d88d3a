"""Business services: one transaction per use case; ids and numbers in, frozen DTOs out."""
