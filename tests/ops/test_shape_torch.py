"""Shape ops and indexing against PyTorch: values and gradients, float64 and float32."""
import pytest

torch = pytest.importorskip("torch")

from op_cases import SHAPE, params  # noqa: E402
from torch_parity import DTYPES, check_case  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", params(SHAPE))
def test_matches_torch(case, dtype):
    check_case(case, dtype)
