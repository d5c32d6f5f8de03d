"""``deepprimer.nn.functional`` against ``torch.nn.functional``: values and gradients,
float64 and float32."""
import pytest

torch = pytest.importorskip("torch")

from op_cases import FUNCTIONAL, params  # noqa: E402
from torch_parity import DTYPES, check_case  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", params(FUNCTIONAL))
def test_matches_torch(case, dtype):
    check_case(case, dtype)
