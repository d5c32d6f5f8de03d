"""deepprimer check: passes on the library, fails naming the op for a wrong backward."""
import textwrap

from deepprimer.cli import main
from deepprimer.labs.check import check_library


def test_every_op_layer_and_loss_passes_gradcheck():
    rows = check_library()
    failures = [f"{r.name}: {r.failure}" for r in rows if not r.passed]
    assert not failures
    kinds = {r.kind.split()[0] for r in rows}
    assert {"op", "layer", "loss"} <= kinds and len(rows) > 300


def write_module(tmp_path, monkeypatch, name, body):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_a_learners_correct_function_passes(tmp_path, monkeypatch, capsys):
    write_module(tmp_path, monkeypatch, "learner_cube", """
        import numpy as np
        from deepprimer.autograd import Function

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2

            @staticmethod
            def example_inputs():
                return [np.linspace(-1, 1, 6).reshape(2, 3)]
    """)
    assert main(["check", "--function", "learner_cube:Cube"]) == 0
    out = capsys.readouterr().out
    assert "Cube" in out and "PASS" in out and "1 of 1 gradchecks passed" in out


def test_a_wrong_backward_fails_naming_the_op(tmp_path, monkeypatch, capsys):
    write_module(tmp_path, monkeypatch, "learner_wrong", """
        from deepprimer.autograd import Function

        class WrongSquare(Function):
            def forward(self, x):
                self.save_for_backward(x)
                return x * x

            def backward(self, grad):
                (x,) = self.saved
                return grad * x  # forgot the factor 2
    """)
    assert main(["check", "--function", "learner_wrong:WrongSquare"]) == 1
    out = capsys.readouterr().out
    assert "WrongSquare" in out and "FAIL" in out and "analytical" in out and "numerical" in out


def test_bad_function_spec_is_a_one_line_error(capsys):
    assert main(["check", "--function", "no_colon"]) == 2
    assert "module:ClassName" in capsys.readouterr().err
