"""Plumbing every domain shares: the clock, the lease, month arithmetic, bounded HTTP
exchanges with hosts we do not control, and scrubbing what they say.

Nothing here knows a domain: the kit imports only `service.db`, so any package may use it
without importing another domain for a clock or a lock.
"""
