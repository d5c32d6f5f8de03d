"""Shape ops and indexing: gradcheck, scatter-add of repeated indices, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import deepprimer as dp
import deepprimer.nn.functional as F
from op_cases import SHAPE, params


@pytest.mark.parametrize("case", params(SHAPE, gradcheck=True))
def test_gradcheck(case):
    assert dp.autograd.gradcheck(case.deepprimer_fn(), case.deepprimer_inputs())


def test_repeated_indices_accumulate():
    x = dp.zeros(4, requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0, 0.0]
    w = dp.zeros(3, 2, requires_grad=True)
    idx = dp.tensor([[1, 1], [2, 1]])
    (w[idx] * dp.tensor([1.0, 2.0])).sum().backward()
    assert w.grad.tolist() == [[0.0, 0.0], [3.0, 6.0], [1.0, 2.0]]


def test_boolean_mask_indexing():
    x = dp.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    picked = x[x > 0]
    assert picked.tolist() == [1.0, 4.0]
    picked.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 1.0]]


@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_random_reshape_and_permute(shape, data):
    """A random permutation and a random regrouping of the elements: values as NumPy's,
    the gradient of a weighted sum flows back to the right elements."""
    a = np.random.default_rng(0).standard_normal(shape)
    perm = data.draw(st.permutations(range(len(shape))))
    x = dp.tensor(a, requires_grad=True)
    y = x.permute(*perm)
    np.testing.assert_array_equal(y.detach().numpy(), a.transpose(perm))
    z = y.reshape(-1, *y.shape[-1:]) if y.ndim > 1 else y.reshape(-1)
    weights = np.arange(z.numel(), dtype=np.float64).reshape(z.shape)
    (z * dp.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), weights.reshape(y.shape).transpose(np.argsort(perm)))


def test_view_of_same_shape_is_the_tensor_itself():
    x = dp.randn(2, 3, requires_grad=True)
    assert x.reshape(2, 3) is x and x.permute(0, 1) is x


def test_split_and_chunk_sizes():
    x = dp.arange(10.0)
    assert [p.shape[0] for p in x.split(4)] == [4, 4, 2]
    assert [p.shape[0] for p in x.split([1, 9])] == [1, 9]
    assert [p.shape[0] for p in x.chunk(3)] == [4, 4, 2]
    assert [p.shape[0] for p in dp.chunk(x, 4)] == [3, 3, 3, 1]


def test_stack_and_cat_promote_dtypes():
    assert dp.cat([dp.tensor([1, 2]), dp.tensor([1.5])]).dtype == dp.float32
    assert dp.stack([dp.tensor([1.0]), dp.tensor([2.0], dtype=dp.float64)]).dtype == dp.float64


def test_pad_values():
    x = dp.tensor([[1.0, 2.0, 3.0]])
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [[2.0, 3.0, 1.0, 2.0, 3.0, 1.0]]
    assert F.pad(x, (1, 1), value=9.0).tolist() == [[9.0, 1.0, 2.0, 3.0, 9.0]]
    assert dp.pad(x, (0, 0, 1, 0)).tolist() == [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]


# ---- errors -------------------------------------------------------------------------------

ERRORS = [
    (lambda: dp.ones(2, 3).reshape(4, 2), ValueError,
     r"reshape: cannot view a tensor of shape \(2, 3\) \(6 elements\) as shape \(4, 2\) \(8 elements\)"),
    (lambda: dp.ones(2, 3).view(-1, 4), ValueError, r"reshape: cannot view a tensor of shape \(2, 3\)"),
    (lambda: dp.ones(2, 3).reshape(-1, -1), ValueError, "reshape"),
    (lambda: dp.ones(2, 3).permute(0, 0), ValueError,
     r"permute: dims \(0, 0\) must be a rearrangement of all 2 dims of a tensor of shape \(2, 3\)"),
    (lambda: dp.ones(2, 3).permute(1, 0, 2), ValueError, "permute"),
    (lambda: dp.ones(2, 3).transpose(0, 2), IndexError, "transpose: dimension 2 is out of range"),
    (lambda: dp.ones(2, 3).unsqueeze(3), IndexError, "unsqueeze: dimension 3 is out of range"),
    (lambda: dp.ones(2, 3).squeeze(2), IndexError, "squeeze: dimension 2 is out of range"),
    (lambda: dp.ones(2, 3).flatten(1, 0), ValueError, "flatten: start_dim 1 comes after end_dim 0"),
    (lambda: dp.ones(2, 3).expand(4, 3), ValueError,
     r"expand: shape \(2, 3\) cannot expand to \(4, 3\): only dims of size 1 can grow"),
    (lambda: dp.ones(2, 3).expand(3), ValueError, r"expand: cannot expand shape \(2, 3\) to fewer dims"),
    (lambda: dp.ones(3, 1).expand(-1, 3, 4), ValueError, "expand: -1 .* not allowed for the new leading dims"),
    (lambda: dp.ones(2, 3).repeat(2), ValueError, r"repeat: give at least 2 repeat counts for shape \(2, 3\)"),
    (lambda: dp.ones(2, 3)[2], IndexError, r"index 2 into a tensor of shape \(2, 3\)"),
    (lambda: dp.ones(2, 3)[0, 0, 0], IndexError, r"into a tensor of shape \(2, 3\)"),
    (lambda: dp.ones(2, 3)[dp.tensor([True, False, True])], IndexError, r"into a tensor of shape \(2, 3\)"),
    (lambda: dp.ones(2, 3)[dp.tensor([0.5])], IndexError, r"into a tensor of shape \(2, 3\)"),
    (lambda: dp.cat([dp.ones(2, 3), dp.ones(3, 2)]), ValueError,
     r"cat: tensor 1 has shape \(3, 2\) but tensor 0 has \(2, 3\); all sizes except dim 0 must match"),
    (lambda: dp.cat([dp.ones(2, 3), dp.ones(3)]), ValueError, r"cat: tensor 1 has shape \(3,\)"),
    (lambda: dp.cat([]), ValueError, "cat: expected a non-empty sequence of tensors"),
    (lambda: dp.stack([dp.ones(2, 3), dp.ones(3, 2)]), ValueError,
     r"stack: tensor 1 has shape \(3, 2\) but tensor 0 has \(2, 3\); stack needs equal shapes"),
    (lambda: dp.ones(5).split([2, 2]), ValueError, r"split: sections \[2, 2\] add up to 4, not 5"),
    (lambda: dp.ones(5).split(0), ValueError, "split: split_size must be positive, got 0"),
    (lambda: dp.ones(5).chunk(0), ValueError, "chunk: chunks must be positive, got 0"),
    (lambda: F.pad(dp.ones(2, 3), (1,)), ValueError, r"pad: expected an even number of widths"),
    (lambda: F.pad(dp.ones(2, 3), (1, 1, 1, 1, 1, 1)), ValueError, "pad: expected an even number of widths for at most 2 dims"),
    (lambda: F.pad(dp.ones(2, 3), (-1, 1)), ValueError, "pad: negative widths"),
    (lambda: F.pad(dp.ones(2, 3), (3, 0), mode="reflect"), ValueError,
     "pad: reflect padding .* must be smaller than the dim size 3"),
    (lambda: F.pad(dp.ones(2, 3), (1, 1), mode="mirror"), ValueError,
     "pad: mode must be constant, reflect, replicate or circular, got 'mirror'"),
    (lambda: dp.ones(2, 3, 4).t(), ValueError, "t\\(\\): expects a tensor with <= 2 dims, got 3"),
    (lambda: dp.ones(2).reshape("a"), TypeError, "reshape: sizes must be ints"),
]


@pytest.mark.parametrize("make, error, message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_name_the_op_and_shapes(make, error, message):
    with pytest.raises(error, match=message):
        make()
