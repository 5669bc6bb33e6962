"""The analyst's desk: a country's overview, data freshness, the track record and the map's
numbers, read from the published runs through the domains' repositories (nothing recomputed
that the engine publishes)."""
