"""LayerNorm (rutas fusionada y explícita) y SublayerConnection (Pre-LN y Post-LN)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _helpers import assert_parity
from torch import nn

from transformer_lib import LayerNorm, SublayerConnection, from_torch, layer_norm

D = 24


def _x(shape=(3, 5, D), seed=0, scale=4.0, shift=3.0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale + shift


def _random_affine(ln: nn.LayerNorm, seed: int = 1) -> nn.LayerNorm:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        ln.weight.copy_(torch.randn(ln.weight.shape, generator=g))
        ln.bias.copy_(torch.randn(ln.bias.shape, generator=g))
    return ln


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("eps", [1e-5, 1e-6, 0.1])
def test_matches_nn_layernorm(fused, eps):
    ref = _random_affine(nn.LayerNorm(D, eps=eps))
    ours = from_torch(ref)
    ours.fused = fused
    assert ours.eps == eps
    x = _x()
    assert_parity(ours(x), ref(x))


@pytest.mark.parametrize("fused", [True, False])
def test_gradients_match_nn_layernorm(fused):
    ref = _random_affine(nn.LayerNorm(D))
    ours = from_torch(ref)
    ours.fused = fused
    x1, x2 = _x().requires_grad_(), _x().requires_grad_()
    g = torch.randn(3, 5, D, generator=torch.Generator().manual_seed(7))
    (ours(x1) * g).sum().backward()
    (ref(x2) * g).sum().backward()
    assert_parity(x1.grad, x2.grad)
    assert_parity(ours.weight.grad, ref.weight.grad)
    assert_parity(ours.bias.grad, ref.bias.grad)


def test_function_matches_f_layer_norm():
    x = _x(shape=(2, 3, 4, D))
    w, b = torch.randn(D), torch.randn(D)
    assert_parity(layer_norm(x, w, b, 1e-5), F.layer_norm(x, (D,), w, b, 1e-5))


def test_default_output_has_zero_mean_unit_variance_per_token():
    y = LayerNorm(D)(_x())
    torch.testing.assert_close(y.mean(-1), torch.zeros(3, 5), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(-1, unbiased=False), torch.ones(3, 5), atol=1e-3, rtol=0)


def test_each_token_is_normalised_independently():
    ln = LayerNorm(D, fused=False)
    x = _x()
    y = ln(x)
    x2 = x.clone()
    x2[0, 2] *= 100.0  # cambiar un token no mueve a los demás
    y2 = ln(x2)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[0, 2] = False
    assert torch.equal(y[mask], y2[mask])


@pytest.mark.parametrize("norm_first", [False, True])
def test_sublayer_connection_formulas(norm_first):
    res = SublayerConnection(D, dropout=0.0, norm_first=norm_first)
    _random_affine(res.norm)  # la nuestra tiene los mismos atributos weight y bias
    lin = nn.Linear(D, D)
    x = _x()
    expected = x + lin(res.norm(x)) if norm_first else res.norm(x + lin(x))
    assert_parity(res(x, lin), expected)


def test_pre_ln_keeps_identity_path_when_sublayer_is_zero():
    res = SublayerConnection(D, norm_first=True)
    x = _x()
    assert torch.equal(res(x, lambda y: torch.zeros_like(y)), x)
    post = SublayerConnection(D, norm_first=False)
    assert_parity(post(x, lambda y: torch.zeros_like(y)), F.layer_norm(x, (D,)))


def test_fused_flag_and_repr():
    assert "fused=True" in repr(LayerNorm(D))
    assert "Pre-LN" in repr(SublayerConnection(D, norm_first=True))
    assert "Post-LN" in repr(SublayerConnection(D, norm_first=False))
