"""Live data: fetch ACLED and UCDP events from their APIs into the same pipeline as files.

Connectors (`acled`, `ucdp`) page through an API over `http.FeedHTTP` (retries, backoff,
Retry-After); `rows` turns each page into the readers' checked event frames; `service` fetches
everything first, then writes it in one transaction through `service.ingest.sync`, and moves
the watermarks (`orm.FeedWatermark`) so the next call asks only for what changed.
"""
