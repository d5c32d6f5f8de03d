"""Function: one differentiable primitive, and the node it leaves on the graph.

A subclass writes ``forward(ctx, *arrays)`` (compute with the array module, save what
backward needs with ``ctx.save_for_backward``) and ``backward(ctx, grad)`` (return one
gradient per positional forward input, ``None`` where there is none). Both see NumPy
arrays, not tensors. Settings that are never differentiated (an axis, a flag) can be
passed to ``apply`` as keyword arguments: they reach ``forward`` unchanged and need no
gradient slot, which also keeps the hot path short. Written as instance methods (``self`` is the ctx) or as PyTorch-style static
methods taking ``ctx``: both work.

``apply`` runs forward and, only when grad mode is on and some input requires grad,
records the node: the output tensor points at it, it points at its inputs.
Gradients of broadcast inputs are summed back to the input's shape by the engine, in one
place, so ``backward`` may return a gradient of the output's (broadcast) shape.
"""
from itertools import count

from ..backend import xp
from . import anomaly
from .grad_mode import state

_creation_order = count(1)


class Function:
    saved = ()  # arrays kept for backward; None once backward has freed them
    inputs = None  # the forward's positional arguments, tensors and constants as given
    sequence_nr = 0  # creation order: a node is always created after the nodes it consumes
    recorded_at = 0  # the in-place-change clock when recorded (see changes.py)
    needs_input_grad = ()  # per positional input, set before forward (all False when not recording)
    hooks = None  # gradient hooks on the output (Tensor.register_hook on a non-leaf)
    retained_by = None  # weakref to the output, set by Tensor.retain_grad()
    # True where backward always returns new arrays, one per input, neither shared nor kept
    # (a GEMM's result, say): the engine may then add into them in place, and hand them to
    # leaves as their .grad, without checking (see engine.run_backward). Subclasses inherit
    # it: one whose backward returns anything else must set it back to False.
    fresh_grads = False

    def save_for_backward(self, *arrays):
        self.saved = arrays

    @property
    def saved_tensors(self):
        return self.saved

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward")

    @classmethod
    def apply(cls, *args, **kwargs):
        fn = cls()
        checking = state.anomaly_enabled
        if checking:
            fn.trace = anomaly.user_frame()
        grad_on = state.grad_enabled
        arrays, needs = [], []  # one plain loop: cheaper than comprehensions here
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                needs.append(grad_on and a.requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        recording = True in needs
        # known to forward, so it can skip keeping what backward won't use (all False when
        # nothing will be recorded)
        fn.needs_input_grad = tuple(needs) if recording else needs
        out = cls.forward(fn, *arrays, **kwargs)
        if type(out) is not xp.ndarray:
            out = xp.asarray(out)
        if checking:
            anomaly.check_forward(fn, out, arrays)
        if not recording or out.dtype.kind not in "fc":
            return Tensor._make(out)  # nothing to record: no input needs a gradient, or an integer result
        fn.inputs = args
        fn.sequence_nr = next(_creation_order)
        fn.recorded_at = state.modifications
        return Tensor._make(out, fn)

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"


from ..tensor import Tensor  # noqa: E402  (tensor.py imports this module first)
