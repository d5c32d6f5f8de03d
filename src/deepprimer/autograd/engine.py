"""The backward pass: one reverse walk over the graph, chain rule at every node.

    dL/d(input) = backward(dL/d(output))        for each recorded Function

Nodes run newest first, by the order they were created in the forward pass: every
consumer of a node's output was created after it, so by the time a node runs, all the
gradient it will receive has arrived (a topological order, kept in a heap: a loop, not
recursion, so a 10,000-step chain is fine). Broadcast gradients are summed back to each
input's shape here and only here.
"""
from heapq import heappop, heappush

from ..backend import column_sums, shared_ones, xp
from . import anomaly
from .changes import check_saved
from .grad_mode import no_grad, state

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to use a tensor whose graph "
    "was already freed). backward() frees the arrays saved for it; pass "
    "retain_graph=True to the first backward() if you need to go through it again, or "
    "recompute the forward pass."
)


def sum_to_shape(grad, shape):
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting stretched."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"gradient of shape {grad.shape} cannot flow into shape {shape}")
    if lead == 1 and grad.ndim == 2 and grad.shape[1] == shape[0]:
        return column_sums(grad)  # a bias gradient
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(grad.shape[lead:])
    if grad.shape != shape:
        raise RuntimeError(f"gradient of shape {grad.shape} cannot flow into shape {shape}")
    return grad


def _fit(grad, tensor, fn):
    """The gradient reshaped (un-broadcast) and cast to the input it flows into."""
    data = tensor.data
    grad = xp.asarray(grad)
    if grad.shape != data.shape:
        try:
            grad = sum_to_shape(grad, data.shape)
        except RuntimeError as err:
            raise RuntimeError(f"{type(fn).__name__}.backward: {err}") from None
    if grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    return grad


def _run_hooks(hooks, grad):
    for hook in hooks:
        replaced = hook(Tensor._make(grad))
        if replaced is not None:
            grad = replaced.data if isinstance(replaced, Tensor) else xp.asarray(replaced)
    return grad


def _check_count(fn, grads):
    if len(grads) != len(fn.inputs):
        raise RuntimeError(
            f"{type(fn).__name__}.backward returned {len(grads)} gradients; forward took "
            f"{len(fn.inputs)} inputs, so it must return {len(fn.inputs)} (None where there is none)"
        )


def _repeats(grads):
    """Whether two returned gradients share memory: one array returned for two inputs, or
    one a view of the other. Then none of them may be added into in place."""
    n = len(grads)
    if n < 3:  # the common cases (one input, two inputs) without the loop
        if n < 2:
            return False
        a, b = grads
        return (isinstance(a, xp.ndarray) and isinstance(b, xp.ndarray)
                and (a is b or a.base is b or b.base is a))
    seen = []  # a plain loop: grads has a few entries, and this runs for most nodes
    for g in grads:
        if isinstance(g, xp.ndarray):
            for earlier in seen:
                if earlier is g or earlier.base is g or g.base is earlier:
                    return True
            seen.append(g)
    return False


def _add_into(entry, grad):
    """Add a further contribution into a gathered entry [gradient so far, ours to add into?]."""
    if entry[1]:
        entry[0] += grad
    else:  # not ours (the incoming gradient, a view, or shared): the sum is a new array
        entry[0] = entry[0] + grad
        entry[1] = True


def run_backward(roots, retain_graph=False, capture=None):
    """Propagate gradients from ``roots`` [(tensor, grad array)] to every leaf.

    Leaves accumulate into ``.grad``. With ``capture`` (a dict {tensor: None}) nothing is
    accumulated: the gradients of exactly those tensors are filled into it instead.
    """
    # Gradients are summed per node until the node runs, and per leaf until the end (so
    # that a leaf's hooks see its whole gradient once), as entries [gradient so far, whether
    # that array is ours to add into in place]. Nodes run newest first: ``waiting`` is a
    # max-heap of their creation numbers (negated, as heapq keeps the smallest first).
    nodes, leaves, waiting = {}, {}, []
    captured_outputs = {t._ctx: t for t in capture if t._ctx is not None} if capture else None
    for tensor, grad in roots:
        fn = tensor._ctx
        if fn is not None:
            if fn in nodes:
                _add_into(nodes[fn], grad)
            else:
                nodes[fn] = [grad, False]
                heappush(waiting, (-fn.sequence_nr, fn))
        elif capture is None or tensor in capture:
            if tensor in leaves:
                _add_into(leaves[tensor], grad)
            else:
                leaves[tensor] = [grad, False]
    anomaly_on = state.anomaly_enabled
    ndarray = xp.ndarray
    while waiting:
        fn = heappop(waiting)[1]
        grad = nodes.pop(fn)[0]
        if fn.hooks:
            grad = _run_hooks(fn.hooks, grad)
        if fn.retained_by is not None:
            _retain(fn, grad)
        if captured_outputs and fn in captured_outputs:
            capture[captured_outputs[fn]] = grad
        if fn.inputs is None:
            raise RuntimeError(FREED_MESSAGE)
        if fn.recorded_at != state.modifications and fn.saved:
            check_saved(fn)
        grads = type(fn).backward(fn, grad)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(fn.needs_input_grad):
            _check_count(fn, grads)
        if anomaly_on:
            anomaly.check_backward(fn, grads)
        fresh = fn.fresh_grads
        shared = None  # computed only if needed
        for t, g, needed in zip(fn.inputs, grads, fn.needs_input_grad):
            if g is None or not needed or not t.requires_grad:
                continue  # no gradient, or the input was frozen or detached after the forward
            data = t.data
            if type(g) is ndarray and g.shape == data.shape and g.dtype == data.dtype:
                # may later contributions be added into this array in place? Not if it is
                # the incoming gradient, a view of another array, or handed to two inputs,
                # unless the Function promises new, unshared arrays (fresh_grads)
                owned = g is not grad and (fresh or (g.base is None and not (
                    shared if shared is not None else (shared := _repeats(grads))
                )))
            else:
                fitted = _fit(g, t, fn)
                g, owned = fitted, fitted is not g
            # deliver g as the root loop above does, written inline: a helper call costs
            # ~0.08 us per edge, 2% of the tiny graph whose target is half PyTorch's time
            node = t._ctx
            if node is not None:
                if node in nodes:
                    _add_into(nodes[node], g)
                else:
                    nodes[node] = [g, owned]
                    heappush(waiting, (-node.sequence_nr, node))
            elif capture is None or t in capture:
                if t in leaves:
                    _add_into(leaves[t], g)
                else:
                    leaves[t] = [g, owned]
        if not retain_graph:
            fn.inputs = None
            fn.saved = None
    for tensor, (grad, owned) in leaves.items():
        if capture is None:
            accumulate_leaf(tensor, grad, owned)
        else:
            capture[tensor] = _run_hooks(tensor._hooks, grad) if tensor._hooks else grad


def _retain(fn, grad):
    """Tensor.retain_grad(): keep a copy of this non-leaf's gradient on it."""
    out = fn.retained_by()
    if out is None:
        return
    if out.grad is None:
        out.grad = out._make(xp.array(grad))
    else:
        out.grad.data += grad


def accumulate_leaf(tensor, grad, owned):
    """Add ``grad`` into a leaf's ``.grad``, running its hooks first (as PyTorch does)."""
    if tensor._hooks:
        grad = _run_hooks(tensor._hooks, grad)
        owned = False
    if tensor.grad is None:
        tensor.grad = Tensor._make(grad if owned and grad.flags.writeable else grad.copy())
    else:
        tensor.grad.data += grad


def backward(tensors, grad_tensors=None, retain_graph=False):
    """``dp.autograd.backward``: accumulate d(tensors)/d(leaf) into every leaf's ``.grad``."""
    if isinstance(tensors, Tensor) and (grad_tensors is None or isinstance(grad_tensors, Tensor)):
        roots = [_root(tensors, grad_tensors)]  # the common case, loss.backward()
    else:
        roots = [_root(t, g) for t, g in zip(*_as_lists(tensors, grad_tensors))]
    previous = state.grad_enabled
    state.grad_enabled = False  # the backward pass itself records nothing
    try:
        run_backward(roots, retain_graph=retain_graph)
    finally:
        state.grad_enabled = previous


def _root(tensor, gradient):
    """(tensor, the gradient backward starts from) for one of the tensors backward is called on."""
    data = tensor.data
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no graph. Create the "
            "parameters with requires_grad=True, and do not compute it under dp.no_grad()."
        )
    if gradient is None:
        if data.size == 1:
            return tensor, shared_ones(data.shape, data.dtype).copy()  # dL/dL = 1, writable for hooks
        raise RuntimeError(
            f"backward: grad can be implicitly created only for a scalar output, but this "
            f"tensor has shape {tuple(tensor.shape)}. Reduce it first (loss.sum() or "
            f"loss.mean()), or pass gradient=dp.ones_like(t) (a tensor of shape "
            f"{tuple(tensor.shape)}: the gradient of the final result w.r.t. it)."
        )
    grad = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient)
    grad = grad.astype(data.dtype, copy=False)  # a float64 gradient must not upcast float32
    if grad.shape != data.shape:
        raise ValueError(
            f"backward: gradient has shape {grad.shape} but the tensor has shape "
            f"{tuple(tensor.shape)}; they must match"
        )
    return tensor, grad


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """``dp.autograd.grad``: d(outputs)/d(inputs) returned as a tuple; no ``.grad`` changes."""
    if create_graph:
        raise NotImplementedError(
            "autograd.grad(create_graph=True): higher-order gradients are not supported; "
            "deepprimer's backward functions compute with NumPy arrays, not recorded tensors"
        )
    outputs, grad_outputs = _as_lists(outputs, grad_outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    capture = {t: None for t in inputs}
    roots = [_root(t, g) for t, g in zip(outputs, grad_outputs)]
    with no_grad():
        run_backward(roots, retain_graph=bool(retain_graph), capture=capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[t]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it"
            )
        result.append(None if g is None else Tensor._make(xp.array(g)))
    return tuple(result)


def _as_lists(tensors, grads):
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    if grads is None:
        grads = [None] * len(tensors)
    elif not isinstance(grads, (list, tuple)):  # one gradient (a tensor, an array, a number)
        grads = [grads]
    grads = list(grads)
    if len(grads) != len(tensors):
        raise ValueError(f"got {len(tensors)} outputs but {len(grads)} gradients for them")
    return tensors, grads


from ..tensor import Tensor  # noqa: E402  (tensor.py imports this module first)
