"""What every service runs on, nothing domain-specific."""
