"""Containers: modules that hold other modules (or parameters) in order or by name.

``Sequential`` chains its layers in forward; ``ModuleList``/``ModuleDict`` only register
theirs, so their parameters are found, saved and moved, and leave ``forward`` to you.
"""
import operator
from collections import OrderedDict

from .module import Module, Parameter
from .relu_pairs import pair_relus

_PLAN = "_Sequential__plan"  # where Sequential keeps its steps: no child can be named so by accident


def _index(idx, length, kind):
    idx = operator.index(idx)
    if not -length <= idx < length:
        raise IndexError(f"{kind}: index {idx} is out of range for {length} modules")
    return idx % length


class Sequential(Module):
    """Layers applied one after another: ``Sequential(nn.Linear(4, 8), nn.ReLU(), ...)``,
    or named, ``Sequential(OrderedDict([("fc1", nn.Linear(4, 8)), ...]))``."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for step in self._steps():
            input = step(input)
        return input

    def _steps(self):
        """The layers to call in order, each ReLU joined to a neighbour as one graph node
        where nobody can tell (relu_pairs.py). Remade on the first call after the layers
        change (until then it still holds the old ones)."""
        layers = tuple(self._modules.values())
        plan = self.__dict__.get(_PLAN)
        if plan is None or plan[0] != layers:
            plan = self.__dict__[_PLAN] = (layers, pair_relus(layers))
        return plan[1]

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop(_PLAN, None)  # remade on the first call: copies and pickles carry only the layers
        return state

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        if isinstance(idx, str):
            return self._modules[idx]
        keys = list(self._modules)
        return self._modules[keys[_index(idx, len(keys), "Sequential")]]

    def __setitem__(self, idx, module):
        keys = list(self._modules)
        self.add_module(keys[_index(idx, len(keys), "Sequential")], module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        if isinstance(idx, slice):
            for key in keys[idx]:
                delattr(self, key)
        else:
            delattr(self, keys[_index(idx, len(keys), "Sequential")])
        # renumber, as PyTorch does, so that indices stay 0..n-1
        items = list(self._modules.items())
        if all(k.isdigit() for k, _ in items):
            for k, _ in items:
                delattr(self, k)
            for i, (_, m) in enumerate(items):
                self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise TypeError(f"add operator supports only objects of Sequential class, got {type(other).__name__}")
        return Sequential(*self, *other)

    def __iadd__(self, other):
        return self.extend(other)

    def append(self, module):
        """Add a layer at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        if not isinstance(module, Module):
            raise TypeError(f"module should be of type Module, got {type(module).__name__}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} modules")
        if index < 0:
            index += n
        items = list(self._modules.values())
        items.insert(index, module)
        for k in list(self._modules):
            delattr(self, k)
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self

    def pop(self, index):
        module = self[index]
        del self[index]
        return module


class ModuleList(Module):
    """A list of modules, registered so that ``parameters()`` and ``state_dict()`` see them."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module):
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[_index(idx, len(items), "ModuleList")]
        for k in list(self._modules):
            delattr(self, k)
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList([*self, *other])

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        items = list(self._modules.values())
        items.insert(index, module)
        for k in list(self._modules):
            delattr(self, k)
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module


class _NamedMembers:
    """The dict interface ModuleDict and ParameterDict share, over the registry that
    ``_members()`` returns (``_modules`` or ``_parameters``)."""

    def _members(self):
        raise NotImplementedError

    def __getitem__(self, key):
        return self._members()[key]

    def __delitem__(self, key):
        delattr(self, key)

    def __len__(self):
        return len(self._members())

    def __iter__(self):
        return iter(self._members())

    def __contains__(self, key):
        return key in self._members()

    def keys(self):
        return self._members().keys()

    def items(self):
        return self._members().items()

    def values(self):
        return self._members().values()

    def update(self, members):
        for key, member in (members.items() if hasattr(members, "items") else members):
            self[key] = member


def _parameter_lines(parameters):
    """extra_repr of the parameter containers: one line per parameter, as torch prints them."""
    return "\n".join(
        f"({k}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
        for k, p in parameters.items()
    )


class ModuleDict(_NamedMembers, Module):
    """A dict of modules by name, registered like attributes."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _members(self):
        return self._modules

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def clear(self):
        for k in list(self._modules):
            delattr(self, k)

    def pop(self, key):
        module = self._modules[key]
        del self[key]
        return module


class ParameterList(Module):
    """A list of parameters, registered under "0", "1", ..."""

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[str(_index(idx, len(self), "ParameterList"))]

    def __setitem__(self, idx, param):
        name = str(_index(idx, len(self), "ParameterList"))
        self.register_parameter(name, param if isinstance(param, Parameter) else Parameter(param))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        self.register_parameter(str(len(self)), value if isinstance(value, Parameter) else Parameter(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return _parameter_lines(self._parameters)


class ParameterDict(_NamedMembers, Module):
    """A dict of parameters by name."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _members(self):
        return self._parameters

    def __setitem__(self, key, value):
        self.register_parameter(key, value if isinstance(value, Parameter) else Parameter(value))

    def extra_repr(self):
        return _parameter_lines(self._parameters)
