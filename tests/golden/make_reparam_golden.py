#!/usr/bin/env python3
"""PyTorch's reparameterization gradients of gamma and Dirichlet draws, as the reference for Kiln's
(tests/Kiln.Tests/Distributions/ReparameterizedGradientTests.cs).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_reparam_golden.py
torch._standard_gamma_grad(alpha, x) is dx/dalpha of a standard gamma draw x holding its quantile fixed, and
torch._dirichlet_grad(x, alpha, total) the marginal gradient of a Dirichlet draw's coordinate, both from fitted
approximations. Points are quantiles in the bulk of each distribution (levels 0.02 ... 0.98), where the fits are
closest; the exact values are recorded too (mpmath: derivatives of the regularized incomplete gamma and beta functions
at 40 digits) so the test can say how far PyTorch's fits are from them.
"""
import json, os
import mpmath as mp
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "reparam.json")
mp.mp.dps = 40
LEVELS = [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98]


def gamma_points():
    alphas, xs = [], []
    for a in [0.05, 0.3, 0.9, 1.0, 2.5, 7.0, 20.0, 150.0]:
        for u in LEVELS:
            x = quantile_gamma(a, u)
            alphas.append(a)
            xs.append(float(x))
    return alphas, xs


def quantile_gamma(a, u):
    """x with P(a, x) = u, by bisection on a log scale (robust for tiny shapes)."""
    lo, hi = mp.mpf("1e-300"), mp.mpf(a) * 10 + 50
    for _ in range(400):
        mid = mp.sqrt(lo * hi)
        if mp.gammainc(a, 0, mid, regularized=True) < u: lo = mid
        else: hi = mid
    return mp.sqrt(lo * hi)


def exact_gamma_grad(a, x):
    a, x = mp.mpf(a), mp.mpf(x)
    dP = mp.diff(lambda s: mp.gammainc(s, 0, x, regularized=True), a)
    density = x ** (a - 1) * mp.exp(-x) / mp.gamma(a)
    return float(-dP / density)


def quantile_beta(a, b, u):
    lo, hi = mp.mpf(0), mp.mpf(1)
    for _ in range(200):
        mid = (lo + hi) / 2
        if mp.betainc(a, b, 0, mid, regularized=True) < u: lo = mid
        else: hi = mid
    return (lo + hi) / 2


def exact_dirichlet_grad(x, a, total):
    x, a, b = mp.mpf(x), mp.mpf(a), mp.mpf(total) - mp.mpf(a)
    dI = mp.diff(lambda s: mp.betainc(s, b, 0, x, regularized=True), a)
    density = x ** (a - 1) * (1 - x) ** (b - 1) / mp.beta(a, b)
    return float(-dI / density / (1 - x))


ga, gx = gamma_points()
g_torch = torch._standard_gamma_grad(torch.tensor(ga, dtype=torch.float64), torch.tensor(gx, dtype=torch.float64)).tolist()
g_exact = [exact_gamma_grad(a, x) for a, x in zip(ga, gx)]

da, dt, dx = [], [], []
for a, b in [(0.3, 0.5), (1.0, 1.0), (2.0, 5.0), (4.0, 1.5), (8.0, 9.0), (0.7, 12.0)]:
    for u in LEVELS:
        da.append(a)
        dt.append(a + b)
        dx.append(float(quantile_beta(a, b, u)))
d_torch = torch._dirichlet_grad(torch.tensor(dx, dtype=torch.float64), torch.tensor(da, dtype=torch.float64), torch.tensor(dt, dtype=torch.float64)).tolist()
d_exact = [exact_dirichlet_grad(x, a, t) for x, a, t in zip(dx, da, dt)]

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__,
               "gamma": {"alpha": ga, "x": gx, "torch": g_torch, "exact": g_exact},
               "dirichlet": {"x": dx, "alpha": da, "total": dt, "torch": d_torch, "exact": d_exact}}, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(ga)} gamma points, {len(dx)} Dirichlet points")
