"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from collections import OrderedDict

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn


def test_sequential_forward_index_len_slice():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = dp.randn(5, 3)
    np.testing.assert_array_equal(seq(x).data, seq[2](seq[1](seq[0](x))).data)
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and seq[-1] is seq[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]


def test_sequential_named_and_mutation():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert seq.fc is seq[0] and seq["act"] is seq[1]
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    seq = nn.Sequential(nn.Linear(2, 2))
    assert seq.append(nn.ReLU()) is seq and len(seq) == 2 and isinstance(seq[1], nn.ReLU)
    seq.extend([nn.Identity(), nn.Sigmoid()])
    seq.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "ReLU", "Identity", "Sigmoid"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2", "3"]
    assert isinstance(seq.pop(1), nn.ReLU) and len(seq) == 3
    seq[0] = nn.Linear(2, 3)
    assert seq[0].out_features == 3
    both = nn.Sequential(nn.ReLU()) + nn.Sequential(nn.Tanh())
    assert len(both) == 2


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Linear", "ReLU", "Tanh"]
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    assert isinstance(layers[-1], nn.Tanh) and isinstance(layers[1:3], nn.ModuleList)
    layers += [nn.Sigmoid()]
    assert len(layers) == 6
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(nn.ReLU())

    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    t = Tower()
    assert list(t.state_dict()) == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    assert tuple(t(dp.randn(3, 2)).shape) == (3, 2)


def test_module_dict():
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Linear(4, 1)})
    assert list(heads) == ["cls", "reg"] and "cls" in heads and len(heads) == 2
    assert list(heads.keys()) == ["cls", "reg"]
    assert [type(v).__name__ for v in heads.values()] == ["Linear", "Linear"]
    heads["extra"] = nn.ReLU()
    heads.update([("more", nn.Tanh())])
    assert len(heads) == 4
    assert isinstance(heads.pop("extra"), nn.ReLU) and "extra" not in heads
    del heads["more"]
    assert [n for n, _ in heads.named_parameters()] == ["cls.weight", "cls.bias", "reg.weight", "reg.bias"]
    heads.clear()
    assert len(heads) == 0


def test_parameter_list_and_dict():
    plist = nn.ParameterList([nn.Parameter(dp.ones(2)), dp.zeros(3)])
    assert len(plist) == 2 and all(isinstance(p, nn.Parameter) for p in plist)
    assert [n for n, _ in plist.named_parameters()] == ["0", "1"]
    plist.append(dp.ones(1))
    assert len(list(plist.parameters())) == 3
    pdict = nn.ParameterDict({"a": dp.ones(2)})
    pdict["b"] = nn.Parameter(dp.zeros(1))
    assert list(pdict) == ["a", "b"] and isinstance(pdict["a"], nn.Parameter)
    assert list(pdict.state_dict()) == ["a", "b"]
