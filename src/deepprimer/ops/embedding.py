"""Embedding lookup: rows of a weight matrix picked by integer indices.

Forward is a gather, ``weight[indices]``. Backward is the matching scatter-add: the
gradient of row v is the sum of the output gradients at every position where index v
was looked up, so an index repeated k times collects k gradients.

The scatter-add is written as a product with a sparse (num_embeddings x positions) matrix
that has a single 1 per column, at the row of that position's index: one pass in C,
about 10-25x faster than ``np.add.at`` for typical sizes (``np.add.at`` remains the
fallback for dtypes the sparse product does not take).
"""
from ..autograd import Function, no_grad
from ..backend import xp
from ..tensor import Tensor

_sparse = None


def _scipy_sparse():
    global _sparse
    if _sparse is None:
        from scipy import sparse

        _sparse = sparse
    return _sparse


def scatter_add_rows(indices, values, num_rows):
    """out[v] = sum of values[i] over every i with indices[i] == v; out has ``num_rows`` rows.

    ``indices`` is 1-D, ``values`` is (len(indices), D).
    """
    n, d = values.shape
    if values.dtype in (xp.float32, xp.float64) and n:
        sp = _scipy_sparse()
        ones = xp.ones(n, dtype=values.dtype)
        # CSC with one entry per column: no sorting needed to build it
        scatter = sp.csc_matrix((ones, indices, xp.arange(n + 1)), shape=(num_rows, n))
        return xp.asarray(scatter @ values)
    out = xp.zeros((num_rows, d), dtype=values.dtype)
    xp.add.at(out, indices, values)
    return out


class Embedding(Function):
    """out = weight[indices]; d weight = scatter-add of the output gradient by index."""

    def forward(self, weight, indices, padding_idx, scale_grad_by_freq):
        self.num_rows = weight.shape[0]
        self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        self.save_for_backward(indices)  # backward needs only the indices, not the weight's values
        return weight.take(indices, axis=0)

    def backward(self, grad):
        (indices,) = self.saved
        flat = indices.reshape(-1)
        g = grad.reshape(flat.shape[0], grad.shape[-1])
        if self.scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=self.num_rows)
            g = g / counts[flat][:, None].astype(g.dtype)
        dweight = scatter_add_rows(flat, g, self.num_rows)
        if self.padding_idx is not None:
            dweight[self.padding_idx] = 0
        return dweight, None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """torch's F.embedding: look up rows of ``weight`` (num_embeddings, embedding_dim) for the
    integer ``input`` of any shape; the result has shape input.shape + (embedding_dim,).

    ``padding_idx``: that row gets no gradient. ``max_norm``: rows looked up whose
    ``norm_type``-norm exceeds it are rescaled to it, in place, before the lookup.
    ``scale_grad_by_freq``: each row's gradient is divided by how often its index occurs.
    """
    indices = input.data if isinstance(input, Tensor) else xp.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be an integer tensor (int64), got {indices.dtype}; "
            f"convert with .long()"
        )
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {tuple(weight.shape)}")
    if sparse:
        raise NotImplementedError("embedding: sparse=True gradients are not supported; deepprimer's gradients are dense")
    num = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = indices[(indices < 0) | (indices >= num)].reshape(-1)[0]
        raise IndexError(
            f"embedding: index {int(bad)} is out of range for an embedding of {num} rows "
            f"(indices must be in 0..{num - 1})"
        )
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings ({num})")
        padding_idx = padding_idx % num
    if max_norm is not None:
        _renorm_rows(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices, padding_idx, bool(scale_grad_by_freq))


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Rescale (in place, outside the graph) the looked-up rows whose norm exceeds max_norm."""
    rows = xp.unique(indices.reshape(-1))
    data = weight.data
    norms = xp.linalg.norm(data[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        with no_grad():
            scale = (max_norm / (norms[big] + 1e-7)).astype(data.dtype)
            data[rows[big]] *= scale[:, None]
            weight._mark_modified()
