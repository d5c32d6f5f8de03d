"""deepprimer: deep learning from first principles, on NumPy.

    import deepprimer as dp
    x = dp.randn(64, 10)
    w = dp.randn(10, 1, requires_grad=True)
    loss = ((x @ w) ** 2).mean()
    loss.backward()          # w.grad now holds d(loss)/dw

The API follows PyTorch wherever PyTorch has the same thing.
"""
from . import backend
from .backend import bool_ as bool
from .backend import (
    float16, float32, float64, get_default_dtype, get_num_threads, int32, int64, set_default_dtype,
    set_num_threads,
)
from .tensor import Size, Tensor
from . import autograd  # noqa: E402  (after Tensor)
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones, ones_like,
    rand, rand_like, randint, randint_like, randn, randn_like, randperm, tensor, zeros,
    zeros_like,
)
from .ops.elementwise import (
    abs, clamp, cos, exp, log, maximum, minimum, pow, relu, sigmoid, sin, sqrt, tanh, where,
)
from .ops.linalg import matmul
from .ops.nn_ops import log_softmax, softmax
from .ops.reduce import (
    amax, amin, argmax, argmin, logsumexp, max, mean, min, norm, std, sum, var,
)
from .ops.shape import cat, chunk, flatten, pad, permute, reshape, split, squeeze, stack, transpose, unsqueeze
from .random import Generator, default_generator, initial_seed, manual_seed
from . import nn  # noqa: E402
from . import optim  # noqa: E402
from . import data  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import models, scalar, train, viz  # noqa: E402

double = float64
float = float32
long = int64

clip = clamp
concat = cat
concatenate = cat

__version__ = "0.1.0"
