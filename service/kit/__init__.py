"""Plumbing every domain shares (no domain imports another for it)."""
