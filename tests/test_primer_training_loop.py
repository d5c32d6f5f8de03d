"""The issue's "done means": the primer's Training Workflow runs unchanged on deepprimer.

The loop below is the primer's, word for word; only the import differs. The "dataloader" is
a plain Python list of (inputs, targets) batches.
"""
import numpy as np

import deepprimer as dp
from deepprimer import nn


def make_batches(seed=0, n=512, batch_size=32, features=10, classes=3):
    """Three Gaussian blobs in 10-D: a classification problem an MLP learns quickly."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, features)) * 2.0
    y = rng.integers(0, classes, n)
    x = (centres[y] + rng.standard_normal((n, features))).astype(np.float32)
    return [(dp.tensor(x[i:i + batch_size]), dp.tensor(y[i:i + batch_size])) for i in range(0, n, batch_size)]


class MLP(nn.Module):
    def __init__(self, in_features=10, hidden=32, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


def mean_loss(model, loss_fn, batches):
    with dp.no_grad():
        return float(np.mean([loss_fn(model(x), y).item() for x, y in batches]))


def test_primer_training_workflow_loss_falls():
    dp.manual_seed(0)
    dataloader = make_batches()
    model = MLP()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = dp.optim.Adam(model.parameters(), lr=0.001)
    num_epochs = 10
    before = mean_loss(model, loss_fn, dataloader)

    # ---- the primer's Training Workflow, unchanged --------------------------------------
    for epoch in range(num_epochs):
        for inputs, targets in dataloader:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            loss.backward()
            optimizer.step()
    # --------------------------------------------------------------------------------------

    after = mean_loss(model, loss_fn, dataloader)
    assert after < 0.5 * before, (before, after)
    with dp.no_grad():
        correct = sum(int((model(x).argmax(1) == y).sum().item()) for x, y in dataloader)
    assert correct / 512 > 0.9
    assert all(p.dtype == dp.float32 for p in model.parameters())


def test_primer_code_with_deepprimer_imported_as_torch():
    """The same workflow written against the name ``torch``, as the primer prints it."""
    import deepprimer as torch
    from deepprimer import nn

    torch.manual_seed(0)
    dataloader = make_batches(seed=1)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    num_epochs = 5
    losses = []

    for epoch in range(num_epochs):
        for inputs, targets in dataloader:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            loss.backward()
            optimizer.step()
        losses.append(loss.item())

    assert losses[-1] < losses[0]
    assert mean_loss(model, loss_fn, dataloader) < 0.7
