"""Optimizers and learning-rate schedules, as in ``torch.optim``.

    from deepprimer import optim
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
    for epoch in range(50):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        sched.step()

Each optimizer is a subclass of :class:`Optimizer` that writes only how one parameter is
updated; the updates run in place on the parameter arrays, in their own dtype.
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "lr_scheduler"]
