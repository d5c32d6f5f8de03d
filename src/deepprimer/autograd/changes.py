"""In-place changes: which memory was changed, and when, so backward never reads a stale array.

A node saves arrays for its backward (``exp`` saves its output, ``mul`` its inputs). If one
of them is changed in place before backward runs (``h += 1`` under ``no_grad``, or
``w.detach().mul_(0)``), the gradient would be computed from the new values and be
silently wrong. PyTorch guards this with a version counter shared by a tensor, its views
and its detached copies; we guard it by the memory itself: every in-place change of a
tensor notes the object that owns its memory (views and detached tensors share the
owner) with the time of the change, on one global clock. At backward a node whose saved
arrays' owners changed after it was recorded refuses to run. So a backward must read
arrays only through ``save_for_backward`` (index arrays and targets included): what it
keeps another way is not guarded.

The clock makes the check free in the common case: when nothing was changed in place since
a node was recorded (the training loop changes parameters only after backward), its
recorded time equals the clock and backward skips the check.
"""
import weakref

from ..backend import xp
from .grad_mode import state

_changed_at = {}  # id(owner of the memory) -> [clock at its last in-place change, the
# weakref whose callback drops the entry when that memory is freed]


def owner(array):
    """The object that owns an array's memory: the same for all its views."""
    base = array.base
    while base is not None:  # NumPy points a view at the owner; as_strided adds one step
        array, base = base, getattr(base, "base", None)
    return array


def note_change(array):
    """Record that ``array``'s memory was just changed in place."""
    state.modifications += 1
    memory = owner(array)
    key = id(memory)
    entry = _changed_at.get(key)
    if entry is not None:
        entry[0] = state.modifications
        return
    try:  # forget the entry when the memory is freed (its id may then be reused)
        watch = weakref.ref(memory, lambda _, key=key: _changed_at.pop(key, None))
    except TypeError:  # an owner without weak references (bytes are read-only anyway)
        watch = None
    _changed_at[key] = [state.modifications, watch]


def check_saved(fn):
    """Refuse to run ``fn.backward`` if an array it saved changed after it was recorded."""
    for array in fn.saved:
        if type(array) is not xp.ndarray:
            continue
        memory = owner(array)
        entry = _changed_at.get(id(memory))
        if entry is not None and entry[0] > fn.recorded_at:
            raise RuntimeError(
                f"one of the arrays needed for gradient computation has been modified by an "
                f"in-place operation: {_which(fn, memory, array)} was changed after the forward "
                f"pass recorded it (through itself, a view or a detached copy). Use an "
                f"out-of-place operation (x = x + y instead of x += y), or change it only "
                f"after backward."
            )


def _which(fn, memory, array):
    """Name the changed array for the error: an input of the node, or else its output."""
    from ..tensor import Tensor

    for i, t in enumerate(fn.inputs):
        data = t.data if isinstance(t, Tensor) else t
        if type(data) is xp.ndarray and owner(data) is memory:
            return f"input {i} of {fn.name} (shape {tuple(data.shape)})"
    return f"the output of {fn.name} (shape {tuple(array.shape)})"
