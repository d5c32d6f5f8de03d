"""Neural-network building blocks (``deepprimer.nn``)."""
from . import functional
