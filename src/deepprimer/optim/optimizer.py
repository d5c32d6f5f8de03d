"""Optimizer: what every optimizer shares, so each one writes only its update rule.

An optimizer holds ``param_groups`` (a list of dicts: ``'params'`` and that group's
hyperparameters, e.g. its own ``'lr'`` and ``'weight_decay'``) and ``state`` (a dict from
parameter to that parameter's running quantities: Adam's moments, SGD's momentum buffer).
``step()`` walks the groups and, for each parameter that received a gradient, calls the
subclass's ``_update(param_array, grad_array, state, group)``, which changes the parameter
array IN PLACE (NumPy ufuncs with ``out=``), in the parameter's own dtype.

Same names, arguments and defaults as ``torch.optim``; ``state_dict()`` has torch's
structure, ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``,
so it round-trips through ``dp.save``/``dp.load``.
"""
import copy
import itertools
import warnings
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """The default of a hyperparameter that has none: each group must give it."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (as
            ``model.named_parameters()`` yields), or of dicts (parameter groups, each with
            a ``'params'`` entry and any hyperparameters that differ from ``defaults``).
        defaults: the hyperparameters a group gets when it does not name them.

    Subclasses implement ``_init_state(param, group) -> dict`` (the state of a parameter
    before its first step) and ``_update(p, g, state, group)`` (one parameter's update:
    ``p`` and ``g`` are the parameter's and its gradient's arrays).
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but "
                f"got a single Tensor; pass [tensor] or model.parameters()"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but "
                f"got a dict; pass model.parameters(), or a list of parameter groups [{{...}}]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ---- the update loop --------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient, in place; return ``closure()``'s loss.

        ``closure``, when given, re-evaluates the model and returns the loss (it runs with
        gradients enabled, before the update).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        state = self.state
        update = self._update
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                s = state.get(p)
                if not s:
                    s = state[p] = self._init_state(p, group)
                update(p.data, grad.data, s, group)
                p._mark_modified()  # autograd sees the change, as torch's version counter does
        return loss

    def _init_state(self, param, group):
        """The state of ``param`` before its first update (a dict)."""
        return {}

    def _update(self, p, g, state, group):
        """Update the array ``p`` in place from its gradient ``g`` (subclasses write this)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set each ``.grad`` to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad._ctx = None
                    grad.requires_grad = False
                    if grad.data.flags.writeable:
                        grad.data.fill(0)
                    else:
                        grad.data = np.zeros_like(grad.data)

    # ---- parameter groups ---------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyperparameters (e.g. when unfreezing)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group must have a 'params' entry")
        param_group = dict(param_group)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)

        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            param_group["param_names"] = names

        for i, param in enumerate(tensors):
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter {i} of the group is a "
                    f"{type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError(
                    "can't optimize a non-leaf Tensor (one computed from others); optimize the "
                    "leaves it was computed from, or .detach() it and set requires_grad=True"
                )

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; they would "
                "be updated twice per step",
                stacklevel=3,
            )
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- checkpoints ----------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state as ``{'state': {index: {...}}, 'param_groups': [...]}``.

        Parameters are replaced by their index in the order of the groups, as in torch. The
        state arrays are the optimizer's own (not copies): save them, or copy them, before
        stepping again if you want a snapshot.
        """
        index_of = {}
        param_groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            param_groups.append(packed)
        packed_state = {
            (index_of[id(k)] if isinstance(k, Tensor) else k): v
            for k, v in self.state.items()
            if v  # a parameter that never needed state (SGD without momentum) has none
        }
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Load a state from :meth:`state_dict` (of an optimizer over the same parameters).

        The state arrays are copied (cast to each parameter's floating dtype), so the
        dict you pass stays independent of the optimizer.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(
                "load_state_dict: expected a dict with 'state' and 'param_groups' (what "
                "optimizer.state_dict() returns)"
            )
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups: "
                f"{len(saved_groups)} saved, {len(groups)} in this optimizer"
            )
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(sg['params'])} parameters saved, "
                    f"{len(g['params'])} here"
                )
        id_map = dict(
            zip(
                itertools.chain.from_iterable(g["params"] for g in saved_groups),
                itertools.chain.from_iterable(g["params"] for g in groups),
            )
        )
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if isinstance(k, str) and k.isdigit():
                k = int(k)
            if k in id_map:
                param = id_map[k]
                state[param] = _cast_state(param, v, k)
            else:
                state[k] = v
        for g, sg in zip(groups, saved_groups):
            sg["params"] = g["params"]
            if "param_names" in g and "param_names" not in sg:
                sg["param_names"] = g["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self):
        out = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key not in ("params", "param_names"):
                    out += f"    {key}: {group[key]}\n"
        return out + ")"


def _cast_state(param, value, index, key=None):
    """A deep copy of one parameter's saved state, arrays cast to the parameter's dtype."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if key == "step":
            if array.size != 1:
                raise ValueError(f"load_state_dict: 'step' of parameter {index} is not a number")
            number = array.reshape(()).item()
            return int(number) if float(number).is_integer() else number
        if array.ndim and array.shape != param.data.shape:
            raise ValueError(
                f"load_state_dict: state {key!r} of parameter {index} has shape "
                f"{tuple(array.shape)} but the parameter has shape {tuple(param.data.shape)}"
            )
        dtype = param.data.dtype if param.data.dtype.kind == "f" and array.dtype.kind == "f" else array.dtype
        return Tensor._make(np.array(array, dtype=dtype, copy=True))
    if isinstance(value, dict):
        return {k: _cast_state(param, v, index, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, index) for v in value)
    return value


def _effective_grad(p, g, weight_decay, maximize):
    """The gradient the update uses: ``g`` (negated when maximizing) plus ``weight_decay * p``.

    Returns the array and whether it is a fresh one that the caller may overwrite. This is
    L2 regularization folded into the gradient, as torch's ``weight_decay`` does.
    """
    if weight_decay != 0:
        out = np.multiply(p, weight_decay)
        if maximize:
            np.subtract(out, g, out=out)
        else:
            out += g
        return out, True
    if maximize:
        return np.negative(g), True
    return g, False


def _lerp_(a, end, weight, tmp):
    """``a += weight * (end - a)`` in place, in torch's two-branch form for accuracy."""
    np.subtract(end, a, out=tmp)
    if weight < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(end, tmp, out=a)


def _check_nonnegative(name, value):
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value} (it must be >= 0)")
