"""Module: registration, traversal, modes, dtype, state dicts, hooks, printing."""
import copy
import pickle

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(dp.ones(4))
        self.register_buffer("count", dp.zeros(1))
        self.register_buffer("cache", dp.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block()
        self.b = Block()
        self.head = nn.Linear(4, 2)
        self.tied = self.head  # the same module twice: counted once

    def forward(self, x):
        return self.head(self.b.fc(x) + self.a(x))


# ---- registration ------------------------------------------------------------------------------


def test_attribute_assignment_registers():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._modules) == ["fc"]
    assert list(b._buffers) == ["count", "cache"]
    assert b.note == "plain attribute" and "note" not in b._parameters
    assert b.fc is b._modules["fc"] and b.scale is b._parameters["scale"]
    assert isinstance(b.scale, nn.Parameter) and b.scale.requires_grad
    assert not b.count.requires_grad


def test_named_parameters_order_prefix_and_recurse():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["a.scale", "a.fc.weight", "a.fc.bias", "b.scale", "b.fc.weight", "b.fc.bias",
                     "head.weight", "head.bias"]
    assert [n for n, _ in net.a.named_parameters(prefix="x")] == ["x.scale", "x.fc.weight", "x.fc.bias"]
    assert [n for n, _ in net.a.named_parameters(recurse=False)] == ["scale"]
    assert len(list(net.parameters())) == 8
    assert len(list(net.a.parameters(recurse=False))) == 1
    assert [n for n, _ in net.named_buffers()] == ["a.count", "a.cache", "b.count", "b.cache"]
    assert len(list(net.buffers())) == 4


def test_shared_parameter_appears_once():
    m = nn.Module()
    lin = nn.Linear(2, 2)
    m.first, m.second = lin, lin
    m.w = lin.weight
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_parameters()] == ["w", "first.bias"]
    assert len(list(m.named_parameters(remove_duplicate=False))) == 5


def test_modules_children_named_modules():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "a", "a.fc", "b", "b.fc", "head"]
    assert [n for n, _ in net.named_children()] == ["a", "b", "head"]
    assert len(list(net.modules())) == 6
    assert net.get_submodule("a.fc") is net.a.fc
    assert net.get_parameter("a.fc.bias") is net.a.fc.bias
    assert net.get_buffer("b.count") is net.b.count
    with pytest.raises(AttributeError, match="has no submodule `zz`"):
        net.get_submodule("a.zz")


def test_reassignment_and_deletion():
    b = Block()
    b.scale = None  # a parameter may be set to None (absent)
    assert b.scale is None and "scale" in b._parameters
    assert len(list(b.parameters())) == 2
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        b.scale = dp.ones(4)
    b.fc = nn.Identity()
    assert isinstance(b._modules["fc"], nn.Identity)
    with pytest.raises(TypeError, match="as child module 'fc'"):
        b.fc = 3
    b.count = dp.ones(1)  # a buffer takes a new tensor
    assert b._buffers["count"] is b.count
    with pytest.raises(TypeError, match="as buffer 'count'"):
        b.count = np.ones(1)
    del b.fc
    assert "fc" not in b._modules and not hasattr(b, "fc")
    b.fc = nn.Parameter(dp.zeros(1))  # a name can change kind
    assert "fc" in b._parameters


def test_assignment_before_init_is_a_clear_error():
    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Forgot()


def test_register_methods_validate():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        m.register_parameter("w", dp.ones(2))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("train", dp.ones(1))
    m.register_module("sub", nn.ReLU())
    assert m.sub is m._modules["sub"]


def test_missing_forward():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward"'):
        nn.Module()(1)


# ---- modes, gradients, dtype -----------------------------------------------------------------------


def test_train_eval_recursive():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net[1].train(False)
    assert net.training and not net[1][0].training


def test_train_calls_each_childs_own_train():
    class FrozenNorm(nn.BatchNorm1d):
        def train(self, mode=True):  # a common trick: keep batch norm in eval while fine-tuning
            return super().train(False)

    net = nn.Sequential(nn.Linear(2, 2), FrozenNorm(2))
    net.train()
    assert net.training and net[0].training and not net[1].training


def test_zero_grad_and_requires_grad_():
    net = Net()
    net(dp.randn(5, 3)).sum().backward()
    assert net.b.scale.grad is None  # not used in forward
    assert all(p.grad is not None for n, p in net.named_parameters() if n != "b.scale")
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for n, p in net.named_parameters() if n != "b.scale")
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.a.requires_grad_(False)
    assert not any(p.requires_grad for p in net.a.parameters())
    net(dp.randn(5, 3)).sum().backward()
    assert net.a.fc.weight.grad is None and net.head.weight.grad is not None


def test_apply_visits_children_first():
    seen = []
    net = Net()
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Block", "Linear", "Block", "Linear", "Net"]


def test_apply_for_initialisation():
    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

    net = Net().apply(init)
    assert all(np.all(m.bias.data == 0) for m in net.modules() if isinstance(m, nn.Linear))


def test_to_dtype_in_place_keeps_identity():
    net = Net()
    bn = nn.BatchNorm1d(2)
    net.bn = bn
    net(dp.randn(2, 3)).sum().backward()
    weight = net.head.weight
    assert net.to(dp.float64) is net
    assert net.head.weight is weight and weight.dtype == dp.float64 and weight.grad.dtype == dp.float64
    assert net.a.count.dtype == dp.float64 and bn.running_mean.dtype == dp.float64
    assert bn.num_batches_tracked.dtype == dp.int64  # integer buffers are left alone
    net.float()
    assert all(p.dtype == dp.float32 for p in net.parameters())
    net.double()
    assert all(p.dtype == dp.float64 for p in net.parameters())
    net.to(dtype=dp.float32)
    assert net.head.bias.dtype == dp.float32
    assert net.to("cpu") is net and net.cpu() is net
    assert net.to("cpu", dp.float64).head.weight.dtype == dp.float64
    with pytest.raises(RuntimeError, match="the only device is 'cpu'"):
        net.to("cuda")
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        net.to(dp.int64)
    y = net(dp.randn(2, 3, dtype=dp.float64))
    assert y.dtype == dp.float64


def test_layers_take_dtype_and_device():
    lin = nn.Linear(2, 3, dtype=dp.float64, device="cpu")
    assert lin.weight.dtype == lin.bias.dtype == dp.float64
    assert nn.LayerNorm(3, dtype=dp.float64).weight.dtype == dp.float64
    with pytest.raises(RuntimeError, match="CPU"):
        nn.Linear(2, 3, device="cuda")


# ---- state dicts ------------------------------------------------------------------------------------


def test_state_dict_keys_values_share_memory():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["a.scale", "a.count", "a.fc.weight", "a.fc.bias", "b.scale", "b.count",
                        "b.fc.weight", "b.fc.bias", "head.weight", "head.bias"]
    assert all(type(v) is dp.Tensor and not v.requires_grad for v in sd.values())
    assert np.shares_memory(sd["head.weight"].data, net.head.weight.data)
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight
    assert list(net.a.state_dict(prefix="a.")) == ["a.scale", "a.count", "a.fc.weight", "a.fc.bias"]


def test_load_state_dict_round_trip_gives_identical_outputs():
    dp.manual_seed(0)
    src, dst = Net(), Net()
    x = dp.randn(4, 3)
    assert not np.allclose(src(x).data, dst(x).data)
    weight = dst.head.weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(src(x).data, dst(x).data)
    assert dst.head.weight is weight  # copied in place: an optimizer's references stay valid
    assert not np.shares_memory(dst.head.weight.data, src.head.weight.data)


def test_load_state_dict_accepts_arrays_and_casts():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": np.eye(2), "bias": [1.0, 2.0]})
    assert lin.weight.dtype == dp.float32
    np.testing.assert_array_equal(lin(dp.tensor([[1.0, 1.0]])).data, [[2.0, 3.0]])


def test_load_state_dict_errors_name_every_key_and_both_shapes():
    net = Net()
    sd = net.state_dict()
    del sd["a.scale"], sd["head.bias"]
    sd["head.weight"] = dp.zeros(3, 4)
    sd["b.fc.bias"] = dp.zeros(5)
    sd["surprise"] = dp.zeros(1)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    message = str(err.value)
    assert message.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "a.scale", "head.bias".' in message
    assert 'Unexpected key(s) in state_dict: "surprise".' in message
    assert ("size mismatch for head.weight: copying a param with shape (3, 4) from checkpoint, the "
            "shape in current model is (2, 4).") in message
    assert "size mismatch for b.fc.bias: copying a param with shape (5,)" in message
    before = net.b.scale.data.copy()
    sd["b.scale"] = dp.zeros(4)
    with pytest.raises(RuntimeError):
        net.load_state_dict(sd)
    np.testing.assert_array_equal(net.b.scale.data, before)  # nothing copied when it fails


def test_load_state_dict_non_strict():
    net = Net()
    sd = {"head.weight": dp.ones(2, 4), "other": dp.zeros(1)}
    result = net.load_state_dict(sd, strict=False)
    assert result.unexpected_keys == ["other"]
    assert "head.bias" in result.missing_keys and len(result.missing_keys) == 9
    assert np.all(net.head.weight.data == 1)
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):  # shapes always checked
        net.load_state_dict({"head.weight": dp.ones(4, 2)}, strict=False)


def test_non_persistent_buffer_not_saved():
    b = Block()
    assert "cache" not in b.state_dict() and "count" in b.state_dict()
    assert any(t is b.cache for t in b.buffers())


def test_deepcopy_and_pickle():
    net = Net()
    x = dp.randn(3, 3)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        np.testing.assert_array_equal(clone(x).data, net(x).data)
        assert clone.head.weight is not net.head.weight
        assert isinstance(clone.head.weight, nn.Parameter) and clone.head.weight.requires_grad
        assert clone.tied is clone.head
        assert clone.head.weight is clone._modules["head"]._parameters["weight"]
        with dp.no_grad():
            clone.head.weight.fill_(0.0)
        assert not np.all(net.head.weight.data == 0)


# ---- hooks ---------------------------------------------------------------------------------------------


def test_forward_hook_reads_activations_and_can_be_removed():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    activations = {}

    def save(name):
        def hook(module, args, output):
            activations[name] = output.detach()
        return hook

    handle = model[1].register_forward_hook(save("relu"))
    x = dp.randn(5, 3)
    model(x)
    np.testing.assert_array_equal(activations["relu"].data, model[1](model[0](x)).data)
    assert np.all(activations["relu"].data >= 0)
    handle.remove()
    activations.clear()
    model(x)
    assert activations == {}


def test_forward_hook_can_replace_output_and_receives_args():
    lin = nn.Linear(2, 2)
    calls = []
    lin.register_forward_hook(lambda m, args, out: calls.append((m, args)) or out * 0)
    x = dp.randn(1, 2)
    assert np.all(lin(x).data == 0)
    assert calls[0][0] is lin and calls[0][1][0] is x


def test_forward_pre_hook_and_order():
    ident = nn.Identity()
    order = []
    ident.register_forward_pre_hook(lambda m, args: args[0] * 2)
    ident.register_forward_hook(lambda m, args, out: order.append("second"))
    ident.register_forward_hook(lambda m, args, out: order.append("first"), prepend=True)
    ident.register_forward_hook(lambda m, args, kwargs, out: order.append(("kw", kwargs)), with_kwargs=True)
    assert ident(dp.tensor([1.0])).item() == 2.0
    assert order == ["first", "second", ("kw", {})]


def test_hooks_keep_autograd():
    lin = nn.Linear(2, 1)
    lin.register_forward_hook(lambda m, a, out: out * 3)
    lin(dp.ones(1, 2)).sum().backward()
    np.testing.assert_allclose(lin.bias.grad.data, [3.0])


# ---- printing --------------------------------------------------------------------------------------------


def test_repr_nested_and_extra_repr():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            self.k = 5

        def extra_repr(self):
            return f"k={self.k}"

    assert repr(Custom()) == (
        "Custom(\n"
        "  k=5\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Module()) == "Module()"


def test_parameter():
    p = nn.Parameter(dp.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, dp.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.], requires_grad=True)")
    arr = np.zeros(3, dtype=np.float32)
    shared = nn.Parameter(arr)
    assert shared.data is arr
    assert not nn.Parameter(dp.ones(2), requires_grad=False).requires_grad
    assert type(p * 2) is dp.Tensor  # ops on parameters give plain tensors
    with pytest.raises(RuntimeError, match="only floating point tensors"):
        nn.Parameter(dp.tensor([1, 2]))
