"""One seeded source of randomness for the whole library.

Weight initialisation, data shuffling, dropout masks and sampling all draw from the
default :class:`Generator`, so ``dp.manual_seed(0)`` makes a whole run repeatable.
"""
import numpy as np


class Generator:
    """A seedable random source, like ``torch.Generator``, wrapping NumPy's PCG64."""

    def __init__(self, seed=None):
        self.manual_seed(np.random.SeedSequence().entropy if seed is None else seed)

    def manual_seed(self, seed):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state


default_generator = Generator(0)


def manual_seed(seed):
    """Seed the default generator: init, shuffling, dropout and sampling all follow it."""
    return default_generator.manual_seed(seed)


def initial_seed():
    return default_generator.initial_seed()


def get_rng(generator=None):
    """The NumPy ``Generator`` to draw from: the given one's, or the default's."""
    return (generator or default_generator).rng
