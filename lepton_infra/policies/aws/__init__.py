"""aws policies: one module per service."""
