"""kubernetes policies: one module per service."""
