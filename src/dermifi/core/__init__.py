"""Shared primitives. Nothing domain-specific lives here."""
