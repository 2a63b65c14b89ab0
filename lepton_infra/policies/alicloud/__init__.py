"""alicloud policies: one module per service."""
