"""azure policies: one module per service."""
