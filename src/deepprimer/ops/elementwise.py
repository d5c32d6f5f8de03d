"""Elementwise ops: arithmetic, the primer's activation functions, and comparisons.

Each Function's backward is the local derivative times the incoming gradient (the chain
rule). Gradients may come back in the broadcast output's shape; the engine sums them back
to each input's shape.
"""
import math

from .. import backend
from ..autograd import Function
from ..backend import LONG_ROW, in_long_rows, xp
from ..tensor import Tensor

# ---- operands: torch's type promotion on top of NumPy's --------------------------


def operands(a, b, op):
    """Make ``a`` and ``b`` ready for a binary op with PyTorch's promotion rules.

    NumPy would turn int64 + float32 into float64; PyTorch (and we) keep the float
    operand's dtype, an integer tensor with a Python float becomes the default float, and
    a 0-dim tensor does not widen a tensor of the same kind (float32 + float64 scalar
    tensor stays float32).
    """
    if isinstance(a, Tensor):  # the common cases first: same dtype, or a float tensor and a number
        if isinstance(b, Tensor):
            if a.data.dtype == b.data.dtype:
                return a, b
        elif type(b) in (int, float) and a.data.dtype.kind == "f":
            return a, b
    if isinstance(a, xp.ndarray) or isinstance(a, list):
        a = Tensor(a)
    if isinstance(b, xp.ndarray) or isinstance(b, list):
        b = Tensor(b)
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        ka, kb = a.data.dtype.kind, b.data.dtype.kind
        if ka == kb or (ka in "iub" and kb in "iub"):
            if ka == kb and a.data.dtype != b.data.dtype and (a.data.ndim == 0) != (b.data.ndim == 0):
                # a 0-dim tensor of the same kind does not widen the other (float32 stays float32)
                return (a.astype(b.dtype), b) if a.data.ndim == 0 else (a, b.astype(a.dtype))
            return a, b
        if ka == "f" and kb in "iub":
            return a, b.astype(a.dtype)
        if kb == "f" and ka in "iub":
            return a.astype(b.dtype), b
        raise TypeError(f"{op}: unsupported dtypes {a.dtype} and {b.dtype}")
    tensor, scalar = (a, b) if ta else (b, a)
    if not isinstance(scalar, (int, float, bool, xp.number, xp.bool_)):
        raise TypeError(
            f"{op}: expected a tensor or a Python number, got {type(scalar).__name__}"
        )
    if isinstance(scalar, float) and tensor.data.dtype.kind in "iub":
        tensor = tensor.astype(backend.get_default_dtype())
    elif isinstance(scalar, xp.generic):
        scalar = scalar.item()  # a NumPy scalar must not upcast float32 data
    return (tensor, scalar) if ta else (scalar, tensor)


def binary(cls, a, b, op):
    """Apply a binary Function with torch's promotion; name the op if shapes don't broadcast.

    NumPy itself detects a broadcast mismatch, so the check costs nothing when shapes fit.
    """
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype == b.data.dtype):
        a, b = operands(a, b, op)  # a number on one side, or dtypes to promote
    try:
        return cls.apply(a, b)
    except ValueError:
        _check_broadcast(a, b, op)
        raise


def _check_broadcast(a, b, op):
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or a.data.shape == b.data.shape:
        return
    try:
        xp.broadcast_shapes(a.data.shape, b.data.shape)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {tuple(a.data.shape)} and {tuple(b.data.shape)} cannot be broadcast "
            f"together (from the right, each pair of sizes must be equal or one of them 1)"
        ) from None


# ---- arithmetic -----------------------------------------------------------------


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        grad_a = grad / b if need_a else None
        grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


class Pow(Function):
    """a ** b, where either side may be a Python number."""

    def forward(self, a, b):
        out = a**b
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        a, b, out = self.saved
        need_a, need_b = self.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            # d/da a^b = b a^(b-1), taken as 0 where b = 0 (as torch does, even at a = 0)
            if isinstance(b, (int, float)):
                if b == 0:
                    grad_a = xp.zeros_like(grad)
                else:
                    grad_a = grad * (2 * a if b == 2 else b * a ** (b - 1))
            else:
                with xp.errstate(divide="ignore", invalid="ignore"):
                    grad_a = xp.where(b == 0, 0, grad * b * a ** (b - 1))
        if need_b:  # d/db a^b = a^b log a, taken as 0 where a = 0 and b >= 0 (as torch does)
            with xp.errstate(divide="ignore", invalid="ignore"):
                log_a = xp.log(xp.asarray(a, dtype=out.dtype))
                grad_b = grad * out * log_a
                if not xp.all(a != 0):
                    grad_b = xp.where((a == 0) & (b >= 0), 0, grad_b)
        return grad_a, grad_b


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


def add(a, b):
    return binary(Add, a, b, "add")


def sub(a, b):
    return binary(Sub, a, b, "sub")


def mul(a, b):
    return binary(Mul, a, b, "mul")


def div(a, b):
    a, b = operands(a, b, "div")
    _check_broadcast(a, b, "div")
    # true division: integers divide into the default float dtype, as in torch (after
    # operands(), an integer tensor meets only integers: a float would have converted it)
    if isinstance(a, Tensor) and a.data.dtype.kind in "iub":
        a = a.astype(backend.get_default_dtype())
    if isinstance(b, Tensor) and b.data.dtype.kind in "iub":
        b = b.astype(backend.get_default_dtype())
    return Div.apply(a, b)


def pow(a, b):
    return binary(Pow, a, b, "pow")


def neg(a):
    return Neg.apply(a)


# ---- unary math -------------------------------------------------------------------


class Abs(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return xp.abs(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad * xp.sign(a)


class Exp(Function):
    def forward(self, a):
        out = xp.exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * out


class Log(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return xp.log(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad / a


class Sqrt(Function):
    def forward(self, a):
        out = xp.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad / (2 * out)


class Sin(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return xp.sin(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad * xp.cos(a)


class Cos(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return xp.cos(a)

    def backward(self, grad):
        (a,) = self.saved
        return -grad * xp.sin(a)


def abs(a):
    return Abs.apply(a)


def exp(a):
    return Exp.apply(_float(a, "exp"))


def log(a):
    return Log.apply(_float(a, "log"))


def sqrt(a):
    return Sqrt.apply(_float(a, "sqrt"))


def sin(a):
    return Sin.apply(_float(a, "sin"))


def cos(a):
    return Cos.apply(_float(a, "cos"))


def sign(a):
    return Tensor._make(xp.sign(a.data))


def _float(a, op):
    """Math functions of integer tensors give the default float dtype, as in torch."""
    if not isinstance(a, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(a).__name__} (wrap it: dp.tensor(x))")
    return a if a.data.dtype.kind == "f" else a.astype(backend.get_default_dtype())


# ---- the primer's activation functions -------------------------------------------


class Tanh(Function):
    """tanh(x); derivative 1 - tanh(x)^2."""

    def forward(self, a):
        out = xp.tanh(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * (1 - out * out)


def stable_sigmoid(a):
    """1 / (1 + e^-x) without overflow: uses e^-|x| <= 1 on both sides of zero."""
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """sigma(x) = 1 / (1 + e^-x); derivative sigma(x) (1 - sigma(x))."""

    def forward(self, a):
        out = stable_sigmoid(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * out * (1 - out)


# NumPy's ``maximum`` runs ~3x slower against a scalar (a stride-0 operand) than against an
# array: ``maximum(x, 0)`` on 3.2 MB of float32 took 0.25 ms, against rows of zeros 0.08 ms;
# on 4096 values 1.8 against 0.7 us. From ~1024 values the zeros pay for finding the layout.
_zero_rows = {}  # dtype -> a read-only row of LONG_ROW zeros
RELU_AGAINST_ZEROS_FROM = 1024  # values


def _dense(a):
    """``a`` with its axes ordered as its memory is, and the order, when that view is
    contiguous (C order, channels-last, ...); else None."""
    if a.flags.c_contiguous:
        return a, None
    order = sorted(range(a.ndim), key=lambda axis: -a.strides[axis])
    view = a.transpose(order)
    return (view, order) if view.flags.c_contiguous else None


def _relu(a, inplace=False):
    """NumPy's ``maximum(a, 0)`` bit for bit (NaN stays NaN, -inf gives 0), in ``a``'s memory
    layout, written into ``a`` itself when ``inplace``: computed against rows of zeros when
    ``a`` is a large dense float array."""
    dense = _dense(a) if a.dtype.kind == "f" and a.size >= RELU_AGAINST_ZEROS_FROM else None
    if dense is None:
        return xp.maximum(a, 0, out=a if inplace else None)
    view, order = dense
    zeros = _zero_rows.get(a.dtype)
    if zeros is None:
        zeros = _zero_rows[a.dtype] = xp.zeros(LONG_ROW, dtype=a.dtype)
        zeros.flags.writeable = False
    res = view if inplace else xp.empty(view.shape, dtype=a.dtype)
    in_long_rows(xp.maximum, view.reshape(-1), zeros, res.reshape(-1))
    if inplace:
        return a
    return res if order is None else res.transpose(xp.argsort(order))  # back to a's axis order


def _relu_grad(grad, out):
    """ReLU's backward, ``grad * (out > 0)``, in ``out``'s memory layout.

    NumPy runs a binary op on two arrays laid out differently (an NCHW gradient against a
    channels-last output) ~15x slower than on two laid out alike: (64, 32, 7, 7) 359 us
    against 22. A copy of the gradient into the output's layout costs about as much as
    the product, so a gradient in another layout is copied first.
    """
    if grad.strides == out.strides or grad.shape != out.shape or 0 in grad.strides:
        return grad * (out > 0)  # alike, or a broadcast gradient (of a sum), read as it is
    like = xp.empty_like(out)
    like[...] = grad
    return xp.multiply(like, out > 0, out=like)


class ReLU(Function):
    """max(0, x); derivative 1 where x > 0, else 0."""

    def forward(self, a):
        out = _relu(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return _relu_grad(grad, out)


class ReLUAfter:
    """Mixin: a layer's Function followed by a ReLU, as one graph node.

    ``class LinearReLU(ReLUAfter, Linear)`` computes relu(x W^T + b): the ReLU runs in place
    on the layer's output (a fresh array: its GEMM's result), and backward masks the
    incoming gradient with the ReLU's derivative, 1 where the output is > 0, before the
    layer's own backward. Against a layer node and a ReLU node: one array, one node and
    one pass over the output fewer, with the same values and gradients bit for bit.
    ``nn.Sequential`` runs a Linear or Conv2d followed by ``nn.ReLU`` this way, and a ReLU
    followed by a max-pool as relu(maxpool(x)) (see ops.pooling.MaxPool2dReLU).

    The output is saved after the layer's own arrays, so the layer's backward must read
    ``self.saved`` by position from the front. A layer whose backward reads its own output
    sets ``relu_in_place = False``: the ReLU then writes a new array.
    """

    relu_in_place = True

    def forward(self, *args, **kwargs):
        out = _relu(super().forward(*args, **kwargs), inplace=self.relu_in_place)
        self.save_for_backward(*self.saved, out)
        return out

    def backward(self, grad):
        return super().backward(_relu_grad(grad, self.saved[-1]))


class LeakyReLU(Function):
    """x where x > 0, else slope * x."""

    def forward(self, a, negative_slope):
        self.save_for_backward(a)
        self.slope = negative_slope
        return xp.where(a > 0, a, a * a.dtype.type(negative_slope))

    def backward(self, grad):
        (a,) = self.saved
        return xp.where(a > 0, grad, grad * a.dtype.type(self.slope)), None


class GELU(Function):
    """x * Phi(x), Phi the standard normal CDF (or its tanh approximation)."""

    def forward(self, a, approximate):
        self.save_for_backward(a)
        self.approximate = approximate
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)
            return 0.5 * a * (1 + xp.tanh(inner))
        return 0.5 * a * (1 + backend.erf(a * (1 / math.sqrt(2))))

    def backward(self, grad):
        (a,) = self.saved
        if self.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = xp.tanh(k * (a + 0.044715 * a**3))
            local = 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * k * (1 + 3 * 0.044715 * a * a)
        else:
            cdf = 0.5 * (1 + backend.erf(a * (1 / math.sqrt(2))))
            pdf = xp.exp(-0.5 * a * a) * (1 / math.sqrt(2 * math.pi))
            local = cdf + a * pdf
        return grad * local.astype(a.dtype, copy=False), None


class ELU(Function):
    """x where x > 0, else alpha (e^x - 1)."""

    def forward(self, a, alpha):
        out = xp.where(a > 0, a, alpha * xp.expm1(xp.minimum(a, 0))).astype(a.dtype, copy=False)
        self.save_for_backward(a, out)
        self.alpha = alpha
        return out

    def backward(self, grad):
        a, out = self.saved
        return xp.where(a > 0, grad, grad * (out + a.dtype.type(self.alpha))), None


class Softplus(Function):
    """log(1 + e^(beta x)) / beta, linear above ``threshold``; derivative sigma(beta x)."""

    def forward(self, a, beta, threshold):
        bx = a * a.dtype.type(beta)
        self.save_for_backward(bx)
        self.beta, self.threshold = beta, threshold
        soft = (xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)) / a.dtype.type(beta)
        return xp.where(bx > threshold, a, soft)

    def backward(self, grad):
        (bx,) = self.saved
        return xp.where(bx > self.threshold, grad, grad * stable_sigmoid(bx)), None, None


def tanh(a):
    return Tanh.apply(_float(a, "tanh"))


def sigmoid(a):
    return Sigmoid.apply(_float(a, "sigmoid"))


def relu(a):
    return ReLU.apply(a)


def leaky_relu(a, negative_slope=0.01):
    return LeakyReLU.apply(a, negative_slope)


def gelu(a, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(a, approximate)


def elu(a, alpha=1.0):
    return ELU.apply(a, alpha)


def softplus(a, beta=1.0, threshold=20.0):
    return Softplus.apply(a, beta, threshold)


# ---- clamp, maximum, minimum, where ----------------------------------------------


class Clamp(Function):
    def forward(self, a, low, high):
        self.save_for_backward(a)
        self.low, self.high = low, high
        return xp.clip(a, low, high)

    def backward(self, grad):
        (a,) = self.saved
        keep = xp.ones(a.shape, dtype=bool)
        if self.low is not None:
            keep &= a >= self.low
        if self.high is not None:
            keep &= a <= self.high
        return grad * keep, None, None


class Maximum(Function):
    """Ties send half the gradient to each side, as in torch."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return xp.maximum(a, b)

    def backward(self, grad):
        a, b = self.saved
        share_a = (a > b).astype(grad.dtype) + (a == b).astype(grad.dtype) * 0.5
        return grad * share_a, grad * (1 - share_a)


def clamp(a, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = a if min is None else maximum(a, min)
        return out if max is None else minimum(out, max)
    if a.data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        a = a.astype(backend.get_default_dtype())  # as in torch: int clamped by a float is float
    return Clamp.apply(a, min, max)


def maximum(a, b):
    return binary(Maximum, a, b, "maximum")


def minimum(a, b):
    a, b = operands(a, b, "minimum")
    _check_broadcast(a, b, "minimum")
    return -Maximum.apply(-a, -b)


class Where(Function):
    def forward(self, condition, a, b):
        self.save_for_backward(condition)
        return xp.where(condition, a, b)

    def backward(self, grad):
        (condition,) = self.saved
        need_a, need_b = self.needs_input_grad[1:]
        zero = grad.dtype.type(0)
        return (
            None,
            xp.where(condition, grad, zero) if need_a else None,
            xp.where(condition, zero, grad) if need_b else None,
        )


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b`` (either may be a Python number)."""
    condition = condition if isinstance(condition, Tensor) else Tensor(condition)
    if condition.data.dtype != backend.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {condition.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        b = Tensor(b)  # two Python numbers: the tensor dtype a lone number would get
    a, b = operands(a, b, "where")
    shapes = [t.data.shape for t in (condition, a, b) if isinstance(t, Tensor)]
    try:
        xp.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"where: condition, input and other of shapes {', '.join(str(tuple(s)) for s in shapes)} "
            f"cannot be broadcast together"
        ) from None
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype != b.dtype:
        dtype = xp.promote_types(a.dtype, b.dtype)
        a, b = a.astype(dtype), b.astype(dtype)
    elif not isinstance(a, Tensor):
        a = b.data.dtype.type(a)
    elif not isinstance(b, Tensor):
        b = a.data.dtype.type(b)
    return Where.apply(condition.detach(), a, b)


# ---- comparisons: bool results, no gradient ----------------------------------------

_COMPARE = {
    "eq": xp.equal, "ne": xp.not_equal, "lt": xp.less, "le": xp.less_equal,
    "gt": xp.greater, "ge": xp.greater_equal,
    "and": xp.bitwise_and, "or": xp.bitwise_or, "xor": xp.bitwise_xor,
}


def compare(op, a, b):
    if not isinstance(b, (Tensor, int, float, bool, xp.ndarray, xp.generic, list)):
        return NotImplemented
    a, b = operands(a, b, op)
    _check_broadcast(a, b, op)
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    return Tensor._make(xp.asarray(_COMPARE[op](a_data, b_data)))


def logical_not(a):
    if a.data.dtype == backend.bool_:
        return Tensor._make(~a.data)
    return Tensor._make(a.data == 0)
