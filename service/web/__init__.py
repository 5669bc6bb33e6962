"""Analyst views: the dashboard page at `/`, its fan chart, and the plots the CLI writes."""
