"""LeNet5 and ResNet: shapes for both image sizes, and the issue's digits acceptance."""
import pytest

import deepprimer as dp
from deepprimer import nn
from deepprimer.data import DataLoader, StandardScaler, TensorDataset, datasets, train_val_test_split
from deepprimer.models import LeNet5, ResNet
from deepprimer.train import fit, predict


@pytest.mark.parametrize("size, channels", [(8, 1), (28, 1), (32, 3)])
def test_lenet_shapes(size, channels):
    model = LeNet5(channels, 7, image_size=size)
    assert tuple(model(dp.randn(2, channels, size, size)).shape) == (2, 7)


def test_lenet_classic_28x28_has_lecuns_layer_sizes():
    model = LeNet5(image_size=28)
    shapes = [tuple(p.shape) for p in model.parameters() if p.ndim > 1]
    assert shapes == [(6, 1, 5, 5), (16, 6, 5, 5), (120, 400), (84, 120), (10, 84)]


def test_resnet_shapes_and_skip_connections_carry_gradient():
    model = ResNet(1, 10, widths=(8, 16))
    x = dp.randn(2, 1, 8, 8, requires_grad=True)
    out = model(x)
    assert tuple(out.shape) == (2, 10)
    out.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_lenet_too_small_images_are_refused():
    with pytest.raises(ValueError, match="at least 8x8"):
        LeNet5(image_size=4)


def test_lenet_on_digits_reaches_0985():
    """The issue's acceptance: the MLP's split (stratified 75/25, seed 0), standardised.

    Judged on the median of five seeds: one seed's accuracy moves by a test sample (0.0022)
    when float32 rounding changes anywhere in the step (seeds 0..5 span 0.980-0.996)."""
    bundle = datasets.digits()
    X_tr, _, X_te, y_tr, _, y_te = train_val_test_split(bundle.X, bundle.y, val_size=0, test_size=0.25, seed=0)
    scaler = StandardScaler().fit(X_tr.reshape(len(X_tr), -1))
    X_tr = scaler.transform(X_tr.reshape(len(X_tr), -1)).reshape(X_tr.shape)
    X_te = scaler.transform(X_te.reshape(len(X_te), -1)).reshape(X_te.shape)
    accuracies = []
    for seed in range(5):
        dp.manual_seed(seed)
        model = LeNet5(image_size=8, dropout=0.3)
        loader = DataLoader(TensorDataset(X_tr, y_tr), batch_size=64, shuffle=True)
        fit(model, nn.CrossEntropyLoss(), dp.optim.Adam(model.parameters(), lr=1e-3), loader, epochs=30, verbose=0)
        accuracies.append((predict(model, X_te).argmax(1) == y_te).mean())
    assert sorted(accuracies)[2] >= 0.985, accuracies
