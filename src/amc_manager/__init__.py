"""amc-manager."""
