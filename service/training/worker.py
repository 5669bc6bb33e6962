"""Preloaded by the process pool's fork server, so every worker starts warm.

Importing this loads the work function and every registered model (the first `model_class`
call would otherwise import them, Prophet included, inside the first task of each worker).
"""

from models.registry import available_models
from service.training import work

available_models()

__all__ = ["work"]
