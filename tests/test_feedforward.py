"""Red feed-forward por posición."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from _helpers import assert_parity

from transformer_lib import FeedForward
from transformer_lib.feedforward import activation_fn


def _x(seed=0):
    return torch.randn(2, 6, 16, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    "name,ref",
    [
        ("relu", lambda z: z.clamp(min=0)),
        ("gelu", lambda z: 0.5 * z * (1 + torch.erf(z / math.sqrt(2)))),
        ("gelu_tanh", lambda z: 0.5 * z * (1 + torch.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))),
    ],
)
def test_activations_follow_their_formulas(name, ref):
    z = torch.linspace(-5, 5, 101)
    assert_parity(activation_fn(name)(z), ref(z))


@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_tanh"])
def test_formula(activation):
    torch.manual_seed(0)
    ff = FeedForward(16, 64, activation)
    x = _x()
    h = activation_fn(activation)(x @ ff.linear1.weight.T + ff.linear1.bias)  # (B, T, d_ff)
    assert_parity(ff(x), h @ ff.linear2.weight.T + ff.linear2.bias)


def test_shapes_and_parameters():
    ff = FeedForward(16, 64)
    assert ff.linear1.weight.shape == (64, 16) and ff.linear2.weight.shape == (16, 64)
    assert sum(p.numel() for p in ff.parameters()) == 2 * 16 * 64 + 64 + 16
    assert sum(p.numel() for p in FeedForward(16, 64, bias=False).parameters()) == 2 * 16 * 64
    assert ff(_x()).shape == (2, 6, 16)


def test_positions_are_independent():
    """La FFN no mezcla tokens: cambiar uno deja intactos los demás."""
    torch.manual_seed(0)
    ff = FeedForward(16, 32, "gelu")
    x = _x()
    x2 = x.clone()
    x2[1, 3] = torch.randn(16)
    y, y2 = ff(x), ff(x2)
    keep = torch.ones(2, 6, dtype=torch.bool)
    keep[1, 3] = False
    assert torch.equal(y[keep], y2[keep])
    assert not torch.equal(y[1, 3], y2[1, 3])


def test_dropout_only_in_training():
    torch.manual_seed(0)
    ff = FeedForward(16, 32, dropout=0.5)
    x = _x()
    ff.eval()
    assert torch.equal(ff(x), ff(x))
    ff.train()
    assert not torch.equal(ff(x), ff.eval()(x))


def test_gelu_name_is_exact_gelu():
    z = torch.randn(50)
    assert torch.equal(activation_fn("gelu")(z), F.gelu(z))
    assert torch.equal(activation_fn("gelu_tanh")(z), F.gelu(z, approximate="tanh"))
