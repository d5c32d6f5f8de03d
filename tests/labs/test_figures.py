"""deepprimer figures writes the primer's five figures, each a real, non-blank image."""
import matplotlib.image as mpimg

from deepprimer.cli import main

NAMES = ["neural_network.png", "gradient_descent.png", "backpropagation.png", "overfitting.png",
         "activation_functions.png"]


def test_figures_writes_all_five_non_blank_pngs(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for name in NAMES:
        image = mpimg.imread(tmp_path / name)
        assert image.shape[0] >= 300 and image.shape[1] >= 500, name
        assert image[..., :3].std() > 0.05, f"{name} looks blank"
        assert name in printed
