"""gradcheck: compare backward's gradients with finite differences, in float64.

For every input element x_j and output element y_k, the numerical derivative is the
central difference

    dy_k/dx_j ~ (f(x + eps e_j) - f(x - eps e_j))_k / (2 eps)

and the analytical one comes from backward with a one-hot gradient on y_k. They must agree
to ``atol + rtol * |numerical|``. This is how you know a backward you wrote is right.
"""
from ..backend import xp
from .engine import run_backward
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """An analytical gradient disagrees with its finite-difference estimate."""


def _outputs(fn, inputs):
    from ..tensor import Tensor

    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _flat_outputs(fn, inputs):
    with no_grad():
        return xp.concatenate([o.data.ravel() for o in _outputs(fn, inputs)])


def jacobians(fn, inputs, eps=1e-6):
    """(analytical, numerical) Jacobians, one (outputs x input elements) pair per input."""
    from ..tensor import Tensor

    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    with enable_grad():  # the analytical side needs a graph, even if called under no_grad
        outs = _outputs(fn, inputs)
    sizes = [o.data.size for o in outs]
    total = sum(sizes)
    analytical = {i: xp.zeros((total, inputs[i].data.size)) for i in wrt}
    row = 0
    for o, size in zip(outs, sizes):
        for k in range(size):
            seed = xp.zeros(o.shape, dtype=o.dtype)
            seed.flat[k] = 1.0
            if o.requires_grad:
                capture = {inputs[i]: None for i in wrt}
                with no_grad():
                    run_backward([(o, seed)], retain_graph=True, capture=capture)
                for i in wrt:
                    if capture[inputs[i]] is not None:
                        analytical[i][row] = xp.asarray(capture[inputs[i]]).ravel()
            row += 1
    numerical = {}
    for i in wrt:
        data = inputs[i].data
        jac = xp.zeros((total, data.size))
        for j, index in enumerate(xp.ndindex(*data.shape)):
            orig = data[index]
            data[index] = orig + eps
            plus = _flat_outputs(fn, inputs)
            data[index] = orig - eps
            minus = _flat_outputs(fn, inputs)
            data[index] = orig
            jac[:, j] = (plus - minus) / (2 * eps)
        numerical[i] = jac
    return analytical, numerical, sizes


def compare(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """(largest |analytical - numerical|, a message naming the first mismatch or None).

    ``inputs`` is a tensor or a tuple of them (and other arguments); those that require grad
    must be float64.
    """
    from ..tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != xp.float64:
            raise TypeError(
                f"gradcheck: input {i} is {t.dtype}; finite differences need float64 "
                f"(create it with dtype=dp.float64 or call .double())"
            )
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError("gradcheck: no input requires grad; there is nothing to check")
    analytical, numerical, sizes = jacobians(fn, inputs, eps)
    worst = max((float(xp.abs(analytical[i] - numerical[i]).max(initial=0.0)) for i in analytical), default=0.0)
    for i in analytical:
        a, n = analytical[i], numerical[i]
        bad = xp.abs(a - n) > atol + rtol * xp.abs(n)
        if bad.any():
            row, col = (int(v) for v in xp.argwhere(bad)[0])
            out_index, out_elem = _locate(row, sizes)
            elem = tuple(int(v) for v in xp.unravel_index(col, inputs[i].shape))
            return worst, (
                f"gradcheck: gradient of output {out_index} element {out_elem} with respect to "
                f"input {i} (shape {tuple(inputs[i].shape)}) element {elem}: analytical "
                f"{a[row, col]:.10g} vs numerical {n[row, col]:.10g} "
                f"(|difference| {abs(a[row, col] - n[row, col]):.3g} > atol {atol} + "
                f"rtol {rtol} * |numerical|); {int(bad.sum())} of {bad.size} entries disagree"
            )
    return worst, None


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True if ``fn``'s backward matches finite differences for every input that requires grad.

    On a mismatch, raises :class:`GradcheckError` naming the input, the element and both
    values (or returns False with ``raise_exception=False``).
    """
    _, failure = compare(fn, inputs, eps, atol, rtol)
    if failure is None:
        return True
    if raise_exception:
        raise GradcheckError(failure)
    return False


def max_gradient_error(fn, inputs, eps=1e-6):
    """The largest |analytical - numerical| over every input and element (for reports)."""
    return compare(fn, inputs, eps)[0]


def _locate(row, sizes):
    for index, size in enumerate(sizes):
        if row < size:
            return index, row
        row -= size
    return len(sizes) - 1, row
