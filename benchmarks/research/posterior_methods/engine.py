"""Mean-field ADVI for K members at once (a leading member axis), on the package's regression
network: MLP, Normal(0, prior_scale) priors (or learned per-layer scales, non-centred), Normal
likelihood with learned log-noise (Normal(-1, 1) prior) or a heteroscedastic second output.

One compiled PyTensor function (Numba) runs CHUNK Adam iterations of all K members in a scan;
Python checks convergence between calls (the package's rule: tol on the loss, patience checks).
"""

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pytensor
import pytensor.tensor as pt

MIN_NOISE = 1e-3
HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def softplus(x):
    return np.logaddexp(0.0, x)


def softplus_inv(x):
    return np.log(np.expm1(x))


@dataclass(frozen=True)
class Spec:
    n_features: int
    hidden: tuple = (16, 16)
    hetero: bool = False
    hier: bool = False  # learned prior scale per layer (weights and biases separately)
    prior_scale: float = 2.0  # fixed prior sd, or the HalfNormal scale of s when hier
    activation: str = "relu"

    @property
    def sizes(self):
        return (self.n_features, *self.hidden, 2 if self.hetero else 1)

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    def layout(self):
        """[(name, start, shape)] of the flat vector."""
        out, i = [], 0
        for l, (a, b) in enumerate(pairwise(self.sizes)):
            out.append((f"w{l}", i, (a, b)))
            i += a * b
            out.append((f"b{l}", i, (b,)))
            i += b
        if not self.hetero:
            out.append(("log_noise", i, ()))
            i += 1
        if self.hier:
            for l in range(self.n_layers):
                out.append((f"log_sw{l}", i, ()))
                out.append((f"log_sb{l}", i + 1, ()))
                i += 2
        return out

    @property
    def dim(self):
        name, start, shape = self.layout()[-1]
        return start + int(np.prod(shape))


def _act(name, x, lib):
    if name == "relu":
        return lib.maximum(x, 0.0)
    return lib.tanh(x)


def _parts(spec, theta, lib):
    """Cut theta (K, D) into named parts (K, *shape)."""
    K = theta.shape[0]
    out = {}
    for name, start, shape in spec.layout():
        size = int(np.prod(shape))
        piece = theta[:, start : start + size]
        out[name] = piece.reshape((K, *shape)) if shape else piece[:, 0]
    return out


def _effective_layers(spec, p, lib):
    """Weights/biases actually used by the network, and the prior log density (K,)."""
    Ws, bs, logprior = [], [], 0.0
    for l in range(spec.n_layers):
        w, b = p[f"w{l}"], p[f"b{l}"]
        if spec.hier:
            lsw, lsb = p[f"log_sw{l}"], p[f"log_sb{l}"]
            logprior = logprior - 0.5 * (w**2).sum(axis=(1, 2)) - 0.5 * (b**2).sum(axis=1)
            for ls in (lsw, lsb):  # HalfNormal(prior_scale) on s, log-transformed (+ log s)
                logprior = logprior - 0.5 * (lib.exp(ls) / spec.prior_scale) ** 2 + ls
            w = w * lib.exp(lsw)[:, None, None]
            b = b * lib.exp(lsb)[:, None]
        else:
            s2 = spec.prior_scale**2
            logprior = logprior - 0.5 * (w**2).sum(axis=(1, 2)) / s2 - 0.5 * (b**2).sum(axis=1) / s2
        Ws.append(w)
        bs.append(b)
    if not spec.hetero:
        logprior = logprior - 0.5 * (p["log_noise"] + 1.0) ** 2
    return Ws, bs, logprior


def forward_sym(spec, theta, X):
    p = _parts(spec, theta, pt)
    Ws, bs, logprior = _effective_layers(spec, p, pt)
    h = pt.tensordot(X, Ws[0], axes=[[1], [1]]).dimshuffle(1, 0, 2) + bs[0][:, None, :]
    for l in range(1, spec.n_layers):
        h = _act(spec.activation, h, pt)
        h = pt.matmul(h, Ws[l]) + bs[l][:, None, :]
    if spec.hetero:
        mean, scale = h[..., 0], pt.softplus(h[..., 1]) + MIN_NOISE
        log_scale = pt.log(scale)
    else:
        mean, log_scale = h[..., 0], p["log_noise"][:, None]
    return mean, log_scale, logprior


def logp_sym(spec, theta, X, y):
    mean, log_scale, logprior = forward_sym(spec, theta, X)
    ll = -0.5 * ((y[None, :] - mean) * pt.exp(-log_scale)) ** 2 - log_scale - HALF_LOG_2PI
    return ll.sum(axis=1) + logprior


def predict_np(spec, thetas, X):
    """thetas (S, D) -> mean (S, n), scale (S, n) on the standardised target."""
    p = _parts(spec, thetas, np)
    Ws, bs, _ = _effective_layers(spec, p, np)
    h = np.einsum("nf,sfh->snh", X, Ws[0]) + bs[0][:, None, :]
    for l in range(1, spec.n_layers):
        h = _act(spec.activation, h, np)
        h = np.einsum("snh,shk->snk", h, Ws[l]) + bs[l][:, None, :]
    if spec.hetero:
        return h[..., 0], softplus(h[..., 1]) + MIN_NOISE
    return h[..., 0], np.broadcast_to(np.exp(p["log_noise"])[:, None], h.shape[:2])


def initial_means(spec, K, rng):
    mu = np.zeros((K, spec.dim))
    for name, start, shape in spec.layout():
        size = int(np.prod(shape))
        if name.startswith("w"):
            a, b = shape
            bound = np.sqrt(6.0 / (a + b))
            mu[:, start : start + size] = rng.uniform(-bound, bound, size=(K, size))
        elif name == "log_noise":
            mu[:, start] = -1.0
        elif name == f"b{spec.n_layers - 1}" and spec.hetero:
            mu[:, start + 1] = softplus_inv(0.1 - MIN_NOISE)
        elif name.startswith("log_s"):
            mu[:, start] = 0.0  # s = 1 at the start: the raw weights are the Glorot start
    return mu


class ADVI:
    CHUNK = 100

    def __init__(self, spec, lr=0.01):
        self.spec = spec
        X, y = pt.matrix("X"), pt.vector("y")
        eps = pt.tensor3("eps")  # (T, K, D)
        mu0, rho0 = pt.matrix("mu"), pt.matrix("rho")
        m0, v0 = pt.matrix("m"), pt.matrix("v")  # stacked (2K, D): mu then rho
        t0 = pt.scalar("t")
        b1, b2, e = 0.9, 0.999, 1e-8

        def step(eps_t, mu, rho, m, v, t):
            sigma = pt.softplus(rho)
            z = mu + sigma * eps_t
            loss = -(logp_sym(spec, z, X, y) + pt.log(sigma).sum(axis=1))  # (K,)
            gmu, grho = pt.grad(loss.sum(), [mu, rho])
            g = pt.concatenate([gmu, grho], axis=0)
            t1 = t + 1
            m1 = b1 * m + (1 - b1) * g
            v1 = b2 * v + (1 - b2) * g**2
            upd = lr * (m1 / (1 - b1**t1)) / (pt.sqrt(v1 / (1 - b2**t1)) + e)
            K = mu.shape[0]
            return mu - upd[:K], rho - upd[K:], m1, v1, t1, loss

        outs = pytensor.scan(
            step, sequences=[eps], outputs_info=[mu0, rho0, m0, v0, t0, None], return_updates=False
        ) if _scan_takes_return_updates() else pytensor.scan(
            step, sequences=[eps], outputs_info=[mu0, rho0, m0, v0, t0, None]
        )[0]
        mu_s, rho_s, m_s, v_s, t_s, loss_s = outs
        self.fn = pytensor.function(
            [eps, mu0, rho0, m0, v0, t0, X, y],
            [mu_s[-1], rho_s[-1], m_s[-1], v_s[-1], t_s[-1], loss_s],
            mode="NUMBA",
        )

    def fit(self, X, y, K, seed, init_std=0.05, max_iter=20000, tol=1e-3, patience=10):
        rng = np.random.default_rng(seed)
        D = self.spec.dim
        mu = initial_means(self.spec, K, rng)
        rho = np.full((K, D), softplus_inv(init_std))
        m, v, t = np.zeros((2 * K, D)), np.zeros((2 * K, D)), 0.0
        best = np.full(K, np.inf)
        since = np.zeros(K, dtype=int)
        losses = []
        n = 0
        while n < max_iter:
            eps = rng.standard_normal((self.CHUNK, K, D))
            mu, rho, m, v, t, loss = self.fn(eps, mu, rho, m, v, np.float64(t), X, y)
            n += self.CHUNK
            # flush Adam moments that decayed towards the subnormal range: subnormal
            # arithmetic made some fits (wine) 10-30x slower per iteration
            m[np.abs(m) < 1e-30] = 0.0
            v[v < 1e-60] = 0.0
            losses.append(loss)
            if not np.all(np.isfinite(loss)):
                raise FloatingPointError("diverged")
            cur = loss.mean(axis=0)
            improved = ~np.isfinite(best) | (cur < best - tol * np.abs(np.where(np.isfinite(best), best, 0.0)))
            best = np.where(improved, cur, np.minimum(best, cur))
            since = np.where(improved, 0, since + 1)
            if tol is not None and np.all(since >= patience):
                break
        return mu, softplus(rho), n, np.concatenate(losses)


def _scan_takes_return_updates():
    import inspect

    return "return_updates" in inspect.signature(pytensor.scan).parameters


def draws_from(mu, sigma, n_draws, rng):
    """Equal share of n_draws from each member's Gaussian: (S, D)."""
    K = mu.shape[0]
    per = n_draws // K
    return np.concatenate([mu[k] + sigma[k] * rng.standard_normal((per, mu.shape[1])) for k in range(K)])
