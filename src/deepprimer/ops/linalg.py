"""Matrix multiplication, the workhorse of every layer.

For C = A @ B the chain rule gives dL/dA = dL/dC @ B^T and dL/dB = A^T @ dL/dC.
Transposes are views (no copy); batched operands broadcast, and the engine sums the
gradient of a broadcast operand back over its batch dims.
"""
from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor


class MatMul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, grad):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        grad_a = grad_b = None
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (grad * b if need_a else None), (grad * a if need_b else None)
        if a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
            if need_a:
                grad_a = (grad[..., None, :] @ xp.swapaxes(b, -1, -2))[..., 0, :]
            if need_b:
                grad_b = a[:, None] * grad[..., None, :]
            return grad_a, grad_b
        if b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
            if need_a:
                grad_a = grad[..., :, None] * b
            if need_b:
                grad_b = (xp.swapaxes(a, -1, -2) @ grad[..., :, None])[..., 0]
            return grad_a, grad_b
        if need_a:
            grad_a = grad @ xp.swapaxes(b, -1, -2)
        if need_b:
            grad_b = xp.swapaxes(a, -1, -2) @ grad
        return grad_a, grad_b


def matmul(a, b):
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    sa, sb = a.data.shape, b.data.shape
    if not sa or not sb:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {tuple(sa)} and {tuple(sb)}")
    if a.data.dtype != b.data.dtype:
        # as in torch: no silent upcast of a whole layer to float64 (or of ints to float)
        raise TypeError(
            f"matmul: {tuple(sa)} @ {tuple(sb)}: dtypes {a.dtype} and {b.dtype} differ; convert "
            f"one operand so both match (x.float() for float32, x.double() for float64)"
        )
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(
            f"matmul: {tuple(sa)} @ {tuple(sb)}: inner dimensions {ka} and {kb} differ "
            f"(the last dim of the left operand must equal the "
            f"{'only' if len(sb) == 1 else 'second-to-last'} dim of the right one)"
        )
    if len(sa) > 2 and len(sb) > 2:
        try:
            xp.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: {tuple(sa)} @ {tuple(sb)}: batch dims {tuple(sa[:-2])} and "
                f"{tuple(sb[:-2])} cannot be broadcast together"
            ) from None
    return MatMul.apply(a, b)
