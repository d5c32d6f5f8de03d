"""How nn.Sequential joins a ReLU with its neighbour into one graph node.

In ``Sequential(..., nn.Linear(64, 128), nn.ReLU(), ...)`` the Linear's output is a fresh
array that nothing but the ReLU will read, so the ReLU can run in place on it, and the two
can be one node of the graph (ops.elementwise.ReLUAfter): one array, one node and one pass
fewer (~3% of the benchmarks' small MLP step). The same for a Conv2d. A ReLU followed
by a max-pool is joined to the pool instead, as relu(maxpool(x)): the maximum of ReLU'd
values is the ReLU of the maximum, and the pooled array is 4x smaller.

The results cannot tell the difference: the values and gradients are the same bit for
bit, and whenever a module would notice (a forward hook, a ``forward`` replaced on the
instance or the class, a pool that returns indices or whose windows overlap) the two
modules are simply called one after the other. Only the graph shows it: ``grad_fn`` is a
``<LinearReLUBackward>`` where the modules one by one leave a Linear and a ReLU node.
"""
from ..ops.pooling import pool_args
from .activation import ReLU
from .conv import Conv2d
from .linear import Linear
from .pooling import MaxPool2d

# the forward each joinable class was written with: a replaced one is honoured by not joining
WRITTEN_FORWARD = {cls: cls.forward for cls in (Linear, Conv2d, MaxPool2d, ReLU)}
RELU_ABSORBERS = (Linear, Conv2d)  # layers whose forward_relu applies a ReLU to their output


def pool_may_go_first(pool):
    """Whether max-pool ``pool`` may run before the ReLU in front of it, to the same bits:
    every window must hold an input element (with dilation a window can be all padding,
    which pools to -inf, not 0), no two windows may overlap (else a zero gradient can come
    out with the other sign), and the caller must want one tensor (no indices)."""
    kernel, stride, _, dilation = pool_args(pool.kernel_size, pool.stride, pool.padding, pool.dilation, "MaxPool2d")
    return not pool.return_indices and dilation == (1, 1) and stride[0] >= kernel[0] and stride[1] >= kernel[1]


class WithReLU:
    """An ``nn.ReLU`` and its neighbour, called as one node through ``owner.forward_relu``
    (``owner`` is the neighbour), or one after the other when a module would notice: a
    forward hook, a forward replaced on the instance or the class, a pool that may not go
    first. Checked at every call (the checks are written out: this runs per layer per step)."""

    def __init__(self, first, second, owner):
        self.first, self.second, self.owner = first, second, owner
        self.written = (WRITTEN_FORWARD[type(first)], WRITTEN_FORWARD[type(second)])

    def __call__(self, input):
        first, second, owner = self.first, self.second, self.owner
        forward_1, forward_2 = self.written
        if (first._forward_hooks or first._forward_pre_hooks or second._forward_hooks or second._forward_pre_hooks
                or "forward" in first.__dict__ or "forward" in second.__dict__
                or type(first).forward is not forward_1 or type(second).forward is not forward_2
                or (owner is second and not pool_may_go_first(owner))):
            return second(first(input))
        return owner.forward_relu(input)


def pair_relus(layers):
    """``layers`` as the steps to call: each ReLU joined to a max-pool after it (conv, ReLU,
    pool: the ReLU then runs on the pooled array), else to a Linear or Conv2d before it.
    Exact types only: a subclass may compute something else."""
    def pools_next(layer):
        return type(layer) is MaxPool2d and pool_may_go_first(layer)

    steps, i, n = [], 0, len(layers)
    while i < n:
        layer = layers[i]
        after = layers[i + 1] if i + 1 < n else None
        if type(layer) is ReLU and pools_next(after):
            steps.append(WithReLU(layer, after, owner=after))
            i += 2
        elif type(layer) in RELU_ABSORBERS and type(after) is ReLU and not (i + 2 < n and pools_next(layers[i + 2])):
            steps.append(WithReLU(layer, after, owner=layer))
            i += 2
        else:
            steps.append(layer)
            i += 1
    return tuple(steps)
