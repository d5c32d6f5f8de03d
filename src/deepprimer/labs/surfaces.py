"""Two-dimensional test surfaces for optimizers, written with deepprimer ops.

Each surface is a loss f(x, y) of two numbers, so a real ``dp.optim`` optimizer can step
on a parameter tensor of shape (2,) and its path can be drawn over the contour lines.
Each one shows a different way gradient descent finds a landscape hard:

- an ill-conditioned quadratic: a long narrow valley, steep across and flat along it;
  the gradient points mostly across the valley, so plain descent zigzags;
- Rosenbrock's banana: a curved, flat-bottomed valley (minimum at (1, 1));
- Beale's function: plateaus and steep cliffs from its cubic terms (minimum at (3, 0.5));
- a saddle: a point where the gradient is zero but which is no minimum; starting almost
  on the ridge, the gradient that leads away from it is tiny at first.

``fn`` takes two tensors (or arrays) and combines them with elementwise ops only, so the
same code gives a single loss for the optimizer and a whole grid for the contour plot.
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import deepprimer as dp


@dataclass(frozen=True)
class Surface:
    """A 2-D loss with its known minima, a start point and a window to draw it in."""

    name: str
    formula: str
    fn: Callable  # f(x, y) on tensors, elementwise
    minima: tuple  # ((x*, y*), ...): every global minimum
    min_value: float  # f at the minima
    start: tuple  # (x0, y0): where the optimizers set off
    xlim: tuple
    ylim: tuple

    def __call__(self, point):
        """The loss at ``point``, a tensor of shape (2,): what ``backward()`` differentiates."""
        return self.fn(point[0], point[1])

    def gap(self, values):
        """f - f_min: how far above the minimum, the quantity the log-scale plots show."""
        return np.asarray(values, dtype=np.float64) - self.min_value

    def distance_to_minimum(self, point):
        """Euclidean distance from ``point`` (x, y) to the nearest global minimum."""
        return float(min(np.hypot(point[0] - mx, point[1] - my) for mx, my in self.minima))

    def grid(self, n=200):
        """(X, Y, Z): the surface evaluated on an n x n grid over its window, as NumPy arrays."""
        xs = np.linspace(*self.xlim, n)
        ys = np.linspace(*self.ylim, n)
        X, Y = np.meshgrid(xs, ys)
        with dp.no_grad():
            Z = self.fn(dp.tensor(X, dtype=dp.float64), dp.tensor(Y, dtype=dp.float64)).numpy()
        return X, Y, Z


def _quadratic(x, y):
    return 0.5 * x ** 2 + 50.0 * y ** 2


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def _saddle(x, y):
    return x ** 2 + 0.25 * (y ** 2 - 1.0) ** 2


QUADRATIC = Surface(
    "ill-conditioned quadratic", "f = x^2/2 + 50 y^2  (curvatures 1 and 100: condition number 100)",
    _quadratic, ((0.0, 0.0),), 0.0, start=(-4.5, 0.8), xlim=(-5.0, 5.0), ylim=(-1.0, 1.0),
)
ROSENBROCK = Surface(
    "Rosenbrock", "f = (1 - x)^2 + 100 (y - x^2)^2",
    _rosenbrock, ((1.0, 1.0),), 0.0, start=(-1.2, 1.0), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
)
BEALE = Surface(
    "Beale", "f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
    _beale, ((3.0, 0.5),), 0.0, start=(1.0, 1.4), xlim=(-1.0, 4.5), ylim=(-1.5, 2.0),
)
SADDLE = Surface(
    "saddle", "f = x^2 + (y^2 - 1)^2 / 4  (saddle point at (0, 0), minima at (0, +1) and (0, -1))",
    _saddle, ((0.0, 1.0), (0.0, -1.0)), 0.0, start=(-1.8, 1e-3), xlim=(-2.0, 2.0), ylim=(-1.5, 1.5),
)

SURFACES = (QUADRATIC, ROSENBROCK, BEALE, SADDLE)
