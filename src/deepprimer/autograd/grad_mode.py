"""Grad mode: whether ops record themselves on the graph.

Recording costs memory (saved arrays) and time, so evaluation and optimizer updates
switch it off with ``dp.no_grad()``. The flag is process-wide, as the engine is
single-threaded.
"""
import functools


class _State:
    grad_enabled = True
    anomaly_enabled = False
    modifications = 0  # the clock of in-place changes (changes.py): when unchanged since a node
    # was recorded, nothing it reads can have changed, and backward skips the check


state = _State()


def is_grad_enabled():
    return state.grad_enabled


class set_grad_enabled:
    """Turn recording on or off: a context manager, a decorator, or a plain call."""

    def __init__(self, mode):
        self.prev = state.grad_enabled
        self.mode = bool(mode)
        state.grad_enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self.prev
        return False

    def __call__(self, func):
        mode = self.mode
        state.grad_enabled = self.prev  # used as a decorator: undo the constructor's switch

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper


class _GradModeGuard:
    """Base of no_grad/enable_grad: sets the mode on entry, restores it on exit."""

    mode = True

    def __new__(cls, func=None):
        guard = super().__new__(cls)
        return guard if func is None else guard(func)  # bare @dp.no_grad, as torch allows

    def __enter__(self):
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self.prev
        return False

    def __call__(self, func):
        guard_type = type(self)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with guard_type():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeGuard):
    """Ops inside record nothing: for evaluation and for updating parameters in place."""

    mode = False


class enable_grad(_GradModeGuard):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True
