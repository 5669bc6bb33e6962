"""Preloaded by the process pool's fork server, so every worker starts with the work function
(and the panel engine it imports) loaded."""

from service.training import work

__all__ = ["work"]
