"""Ready architectures, from the primer's MLP upwards."""
from .mlp import MLP

__all__ = ["MLP"]
