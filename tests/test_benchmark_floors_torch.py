"""The benchmark's hand-written NumPy floors compute what the benchmarked models compute.

A floor that skipped work would flatter itself, and a wrong one would set a target nobody
can meet; benchmarks/check_floors.py runs each one beside the same model in PyTorch from the
same weights and data. Here every one of those checks must agree to 1e-3 (relative).
"""
import pytest

torch = pytest.importorskip("torch")

from benchmarks import check_floors  # noqa: E402  (after the skip: it needs torch)

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True, scope="module")
def _torch_settings_restored():
    """check_floors pins torch's threads and seed as a benchmark does; give them back."""
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    yield
    torch.set_num_threads(threads)
    torch.random.set_rng_state(state)


@pytest.mark.parametrize("name", list(check_floors.CHECKS))
def test_floor_matches_pytorch(name):
    assert check_floors.CHECKS[name]() < 1e-3
