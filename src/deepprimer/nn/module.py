"""Module and Parameter: the base of every layer, and the tensors a layer learns.

A :class:`Module` registers what is assigned to it: a :class:`Parameter` becomes one of its
parameters, a Module one of its submodules, and ``register_buffer`` adds state that is
saved but not learned (BatchNorm's running statistics). From those registries come
``parameters()``, ``state_dict()``, ``train()``/``eval()``, ``to(dtype)`` and the printed
tree, as in PyTorch.

Speed note: every registered parameter, buffer and submodule is also kept in the instance
``__dict__``, so ``self.weight`` inside ``forward`` is a plain attribute lookup rather than a
trip through ``__getattr__`` (about 20x cheaper). ``__setattr__``/``__delattr__`` and the
``register_*`` methods keep both in step; write through them, not into ``_parameters``
directly.
"""
import itertools
import weakref
from collections import OrderedDict, namedtuple

from .. import backend
from ..autograd import no_grad
from ..backend import xp
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's learnable weight: assigning one to a module registers it.

    ``Parameter(data)`` shares memory with ``data`` (a tensor or a NumPy array), as in
    PyTorch, and requires grad unless ``requires_grad=False``.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = xp.empty(0, dtype=backend.get_default_dtype())
        Tensor.__init__(self, data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self.requires_grad))

    def __deepcopy__(self, memo):
        result = Parameter(self.data.copy(), self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor._make(self.grad.data.copy())
        memo[id(self)] = result
        return result


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` takes the hook off again."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)

    def remove(self):
        hooks = self.hooks_dict_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _move_to_front(hooks, key):
    """Reorder ``hooks`` in place so that ``key`` comes first (handles keep their dict)."""
    items = list(hooks.items())
    hooks.clear()
    hooks[key] = dict(items)[key]
    hooks.update(item for item in items if item[0] != key)


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _parse_to(args, kwargs):
    """The dtype asked of ``Module.to(...)``/``Tensor.to``-style arguments, or None.

    Devices are accepted when they are the CPU (deepprimer computes with NumPy); another
    device is a clear error rather than a silent no-op.
    """
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to(): unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) or type(arg).__name__ == "device":
            device = arg
        elif arg is not None:
            dtype = arg
    if device is not None:
        name = str(device).split(":")[0]
        if name != "cpu":
            raise RuntimeError(
                f"to({str(device)!r}): deepprimer computes on the CPU with NumPy; the only "
                f"device is 'cpu' (model.to('cpu') is accepted and does nothing)"
            )
    if dtype is not None:
        dtype = xp.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(
                f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}"
            )
    return dtype


class Module:
    """Base class of every layer and model: subclass it, assign layers and parameters in
    ``__init__``, compute in ``forward``, and call the module like a function."""

    training = True

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments: Module.__init__ "
                f"takes none (call super().__init__() with no arguments)"
            )
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = OrderedDict()  # OrderedDict: handles hold a weak reference to it
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = set()

    # ---- calling --------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        if self._forward_hooks or self._forward_pre_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook registered with with_kwargs=True must return None "
                            f"or a tuple (new_args, new_kwargs), got {result!r}"
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call ``hook(module, args, output)`` after every forward; a non-None return
        replaces the output. Returns a handle whose ``remove()`` unregisters it.

        This is how to read activations::

            acts = {}
            model[0].register_forward_hook(lambda m, args, out: acts.update(h0=out.detach()))
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if prepend:
            _move_to_front(self._forward_hooks, handle.id)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before every forward; a non-None return replaces the
        positional arguments (a tuple, or a single value)."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        if prepend:
            _move_to_front(self._forward_pre_hooks, handle.id)
        return handle

    # ---- registering ------------------------------------------------------------------
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call: call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )

    @staticmethod
    def _check_name(name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')

    def _forget(self, name, keep=None):
        """Remove ``name`` from every registry except ``keep``."""
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep and name in d[registry]:
                del d[registry][name]
        d["_non_persistent_buffers_set"].discard(name)

    def register_parameter(self, name, param):
        """Add a parameter (a :class:`Parameter`, or None for an absent one such as a
        disabled bias) under ``name``."""
        self._check_init("parameters")
        self._check_name(name, "parameter")
        if name not in self._parameters and hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                f"(deepprimer.nn.Parameter or None required)"
            )
        self._forget(name, keep="_parameters")
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add state that is not learned (no gradient, not in ``parameters()``) but moves with
        ``to(dtype)`` and, when ``persistent``, is saved in ``state_dict()``."""
        self._check_init("buffers")
        self._check_name(name, "buffer")
        if name not in self._buffers and hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                f"(a Tensor or None required)"
            )
        self._forget(name, keep="_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers_set.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name, module):
        """Add a submodule under ``name`` (the same as ``self.name = module``)."""
        self._check_init("module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if name not in self._modules and hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists")
        self._forget(name, keep="_modules")
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        if isinstance(value, Parameter):
            self._check_init("parameters")
            self._forget(name, keep="_parameters")
            d["_parameters"][name] = value
            d[name] = value
        elif isinstance(value, Module):
            self._check_init("module")
            self._forget(name, keep="_modules")
            d["_modules"][name] = value
            d[name] = value
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    f"(deepprimer.nn.Parameter or None expected); to change its values "
                    f"in place use `with dp.no_grad(): module.{name}.copy_(new_values)`"
                )
            d["_parameters"][name] = None
            d[name] = None
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    f"(deepprimer.nn.Module or None expected)"
                )
            d["_modules"][name] = None
            d[name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    f"(a Tensor or None expected)"
                )
            d["_buffers"][name] = value
            d[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only reached when ``name`` is not in __dict__ (registered names normally are)
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        registered = False
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in d.get(registry, ()):
                del d[registry][name]
                registered = True
        d.get("_non_persistent_buffers_set", set()).discard(name)
        if registered:
            d.pop(name, None)
        else:
            object.__delattr__(self, name)

    # ---- walking the tree ---------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every module below it, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (module_prefix + "." + name if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, parameter) pairs, each parameter once (a shared one under its first name)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter of this module (and, with ``recurse``, of its submodules), once."""
        if not recurse:
            for p in self._parameters.values():
                if p is not None:
                    yield p
            return
        seen = set()
        for module in self.modules():
            for p in module._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        """The submodule at a dotted path such as ``"encoder.0"`` ("" is the module itself)."""
        if target == "":
            return self
        module = self
        walked = []
        for item in target.split("."):
            if item not in module._modules or module._modules[item] is None:
                where = ".".join(walked) or type(self).__name__
                raise AttributeError(f"{module._get_name()} ({where}) has no submodule `{item}`")
            module = module._modules[item]
            walked.append(item)
        return module

    def get_parameter(self, target):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}`")
        return module._buffers[name]

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on this one; returns self.

        The usual use is initialisation: ``model.apply(init_weights)``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes, gradients, dtype ----------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses and updates batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.__dict__["training"] = mode
        for module in self.children():  # each child's own train(), so overrides are honoured
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording on or off for every parameter (freezing layers)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: set it to None (the default, as in PyTorch 2),
        or fill it with zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data.fill(0)

    def _apply_dtype(self, dtype):
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for t in registry.values():
                    if t is None or t.data.dtype.kind != "f" or t.data.dtype == dtype:
                        continue
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad.data = t.grad.data.astype(dtype)
        return self

    def to(self, *args, **kwargs):
        """Convert floating-point parameters and buffers to a dtype, in place; returns self.

        ``model.to(dp.float64)``, ``model.to(dtype=dp.float64)``; ``model.to('cpu')`` is
        accepted and changes nothing (deepprimer runs on the CPU).
        """
        dtype = _parse_to(args, dict(kwargs))
        return self if dtype is None else self._apply_dtype(dtype)

    def double(self):
        return self._apply_dtype(backend.float64)

    def float(self):
        return self._apply_dtype(backend.float32)

    def half(self):
        return self._apply_dtype(backend.float16)

    def type(self, dst_type):
        return self._apply_dtype(xp.dtype(dst_type))

    def cpu(self):
        return self

    def cuda(self, device=None):
        raise RuntimeError("deepprimer computes on the CPU with NumPy; there is no CUDA device")

    # ---- saving and loading ---------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else Tensor._make(p.data)
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else Tensor._make(b.data)

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ordered dict {dotted name: tensor} of every parameter and persistent buffer.

        The tensors share memory with the module (detached; ``keep_vars=True`` gives the
        parameters themselves). Keys and shapes are PyTorch's for the same architecture.
        """
        if args:  # the legacy positional form state_dict(destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        for module_prefix, module in self.named_modules():
            module._save_to_state_dict(destination, prefix + (module_prefix + "." if module_prefix else ""), keep_vars)
        return destination

    def _local_state(self):
        """{name: tensor} of this module's own parameters and persistent buffers."""
        state = {k: v for k, v in self._parameters.items() if v is not None}
        state.update(
            (k, v) for k, v in self._buffers.items()
            if v is not None and k not in self._non_persistent_buffers_set
        )
        return state

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values from ``state_dict`` into this module's parameters and buffers, in place.

        Values may be deepprimer tensors, NumPy arrays, or anything NumPy can read (a
        PyTorch state dict's tensors too), and are cast to each parameter's dtype. A
        mis-shaped value is always an error; with ``strict=True`` (the default), so is a
        missing or an unexpected key. The error lists every offending key and both shapes.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        missing, mismatched, copies = [], [], []
        expected = set()
        for module_prefix, module in self.named_modules():
            dotted = module_prefix + "." if module_prefix else ""
            for name, target in module._local_state().items():
                key = dotted + name
                expected.add(key)
                if key not in state_dict:
                    missing.append(key)
                    continue
                value = state_dict[key]
                array = value.data if isinstance(value, Tensor) else _to_numpy(value)
                if array.shape != target.data.shape:
                    mismatched.append(
                        f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} "
                        f"from checkpoint, the shape in current model is {tuple(target.data.shape)}."
                    )
                    continue
                copies.append((target, array))
        unexpected = [k for k in state_dict.keys() if k not in expected]
        errors = []
        if strict:
            if unexpected:
                errors.append(
                    "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". "
                )
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        errors.extend(mismatched)
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors)
            )
        with no_grad():
            for target, array in copies:
                if assign:
                    target.data = array.astype(target.data.dtype, copy=False)
                else:
                    target.data[...] = array
                target._mark_modified()
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ---------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text inside this module's parentheses when printed (its settings)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _to_numpy(value):
    """An array from a state-dict value that is not a deepprimer tensor (NumPy, torch, list)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return xp.asarray(value)
