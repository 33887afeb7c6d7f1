"""JAX baselines for ``bench_sweep.py``: the same sweep written as ``jax.jit(jax.vmap(lax.scan))``.

One run is a ``lax.scan`` over k = 1 … K of the Algorithm 1a step convcheck takes
(:mod:`convcheck.method_family`): g = ∇f(x^k), a direction d^k by the method's rule,
x^{k+1} = x^k − t_k ∇f(x^k + ρ_k d^k/(‖d^k‖ + eps_guard)), with t_k = c_b·k^(−p) per run (vmapped) and
ρ_k = c_ρ·k^(−p_ρ) shared. Each step emits f(x^k), ‖∇f(x^k)‖ and the step length t_k‖∇f(y^k)‖ (what
convcheck stores: ‖x^{k+1} − x^k‖ = t_k‖D^k‖), so the records come back as (K, B) arrays.

The problems are the closed forms of each class's ``_value_and_grad`` (problems/catalogue_*.py), on
the data of the convcheck problem object (A, b, …), so both sides run the same instance; the
methods' parameters are convcheck's (``convcheck.methods.get(name).params``).

Random methods (RSAM, ``noise_dim`` > 0): convcheck draws Δ^k = σ·N(0, I) from
``numpy.random.default_rng(seed)`` per run; here the draws come from JAX's PRNG (``jax.random.key(seed)``,
split once per step), the same law but other numbers. ``noise="replay"`` instead feeds NumPy's draws
in as scan inputs (convcheck's stream, one (K, n) block per run), for the exact correctness check only.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from convcheck.methods import get as get_method
from convcheck.schedules import from_spec

jax.config.update("jax_enable_x64", True)


def value_and_grad_of(problem):
    """(f(x), ∇f(x)) for one point x of shape (n,), as the problem's ``_value_and_grad`` states them."""
    host = problem.backend.to_host
    if problem.name in ("logsum", "logsum_under"):  # Σ log1p(r²), r = Ax − b; ∇f = Aᵀ[2r/(1 + r²)]
        A, b = jnp.asarray(host(problem.A)), jnp.asarray(host(problem.b))

        def value_and_grad(x):
            r = A @ x - b
            return jnp.sum(jnp.log1p(r * r)), (2.0 * r / (1.0 + r * r)) @ A
    elif problem.name == "quadratic":  # ½xᵀAx − bᵀx; ∇f = Ax − b (A symmetric)
        A, b = jnp.asarray(host(problem.A)), jnp.asarray(host(problem.b))

        def value_and_grad(x):
            g = x @ A - b
            return 0.5 * jnp.sum(x * (g - b)), g
    elif problem.name == "ring":  # (‖x‖² − 1)²; ∇f = 4(‖x‖² − 1)x
        def value_and_grad(x):
            excess = x @ x - 1.0
            return excess * excess, 4.0 * excess * x
    elif problem.name == "rosenbrock":  # Σ b(x_{i+1} − x_i²)² + (1 − x_i)²
        bb = float(problem.b)

        def value_and_grad(x):
            head, tail = x[:-1], x[1:]
            valley = tail - head * head
            miss = 1.0 - head
            g = jnp.zeros_like(x).at[:-1].set(-4.0 * bb * head * valley - 2.0 * miss)
            g = g.at[1:].add(2.0 * bb * valley)
            return jnp.sum(bb * valley * valley + miss * miss), g
    else:
        raise NotImplementedError(f"no JAX form of problem {problem.name!r}")
    return value_and_grad


def direction_rule(method, grad):
    """(initial state from x⁰, rule(x, g, ‖g‖, k, z, state) -> (d^k, ‖d^k‖, state)) of an Algorithm 1a member."""
    p = method.params
    norm = jnp.linalg.norm
    if method.name == "sam":  # d = ∇f(x^k), normalised by the recorded ‖∇f(x^k)‖
        return (lambda x0: ()), (lambda x, g, gn, k, z, s: (g, gn, s))
    if method.name == "rsam":  # Δ = σz, d = Δ + λ∇f(x^k + Δ)
        def rsam(x, g, gn, k, z, s):
            delta = p["sigma"] * z
            d = delta + p["lam"] * grad(x + delta)
            return d, norm(d), s
        return (lambda x0: ()), rsam
    if method.name == "vasso":  # d¹ = g¹, d^k = (1 − θ)d^{k−1} + θg^k
        def vasso(x, g, gn, k, z, previous):
            d = jnp.where(k == 1, g, (1.0 - p["theta"]) * previous + p["theta"] * g)
            return d, norm(d), d
        return jnp.zeros_like, vasso
    if method.name == "fsam":  # d¹ = m¹ = g¹; "code": d = g − σm^{k−1}, then m ← λm + (1 − λ)g
        sigma, lam, paper = p["sigma"], p["lam"], p["order"] == "paper"

        def fsam(x, g, gn, k, z, m):
            m_new = jnp.where(k == 1, g, lam * m + (1.0 - lam) * g)
            d = jnp.where(k == 1, g, g - sigma * (m_new if paper else m))
            return d, norm(d), m_new
        return jnp.zeros_like, fsam
    raise NotImplementedError(f"no JAX form of method {method.name!r}")


def _power(spec):
    schedule = from_spec(spec)
    if schedule.name != "power":
        raise NotImplementedError(f"JAX baseline takes power schedules only, got {schedule.spec}")
    return schedule.params["c"], schedule.params["p"]


def jax_sweep(problem, method_name: str, configs, noise: str = "prng"):
    """A callable running the configs' B runs as one jit(vmap(scan)) program; it returns NumPy arrays
    (f, grad_norm, step_norm) of shape (K, B) and the last iterates x^{K+1} (B, n).

    The first call compiles (time the later ones). ``noise``: "prng" (JAX's PRNG, the benchmark) or
    "replay" (convcheck's NumPy draws as inputs, for the check).
    """
    method = get_method(method_name)
    iters = configs[0]["iters"]
    assert all(c["iters"] == iters and c["radius"] == configs[0]["radius"] for c in configs)
    steps = [_power(c["step"]) for c in configs]
    p_step = steps[0][1]
    assert all(p == p_step for _, p in steps), "one step exponent per sweep"
    c_rho, p_rho = _power(configs[0]["radius"])
    eps = float(method.params.get("eps_guard", 0.0))
    value_and_grad = value_and_grad_of(problem)

    def grad(x):
        return value_and_grad(x)[1]  # jit drops the unused value
    init, rule = direction_rule(method, grad)
    random = method.noise_dim > 0
    assert method.noise_dim <= 1

    def one_run(x0, c, noise_in):  # noise_in: a PRNG key ("prng") or the (K, n) draws ("replay")
        def step(carry, inputs):
            x, state, key = carry
            k, z = inputs
            if random and noise == "prng":
                key, sub = jax.random.split(key)
                z = jax.random.normal(sub, x.shape)
            f, g = value_and_grad(x)
            gn = jnp.linalg.norm(g)
            t, rho = c * k ** -p_step, c_rho * k ** -p_rho
            d, dn, state = rule(x, g, gn, k, z, state)
            D = grad(x + (rho / (dn + eps)) * d)
            return (x - t * D, state, key), (f, gn, t * jnp.linalg.norm(D))

        ks = jnp.arange(1, iters + 1, dtype=jnp.float64)
        zs = noise_in if (random and noise == "replay") else None
        key = noise_in if (random and noise == "prng") else None
        (x, _, _), records = jax.lax.scan(step, (x0, init(x0), key), (ks, zs))
        return records, x

    program = jax.jit(jax.vmap(one_run, out_axes=((1, 1, 1), 0)))  # records (K, B), x (B, n)
    x0s = np.stack([np.asarray(c["x0"], dtype=np.float64) for c in configs])
    cs = np.array([c for c, _ in steps])
    seeds = [int(c["seed"]) for c in configs]
    if not random:
        noise_in = None
    elif noise == "prng":
        noise_in = jax.vmap(jax.random.key)(jnp.asarray(seeds))
    elif noise == "replay":  # the engine's draws: default_rng(seed).standard_normal per run, in order
        noise_in = np.stack([np.random.default_rng(s).standard_normal((iters, problem.dim)) for s in seeds])
    else:
        raise ValueError(noise)

    def run():
        (f, gn, s), x = jax.block_until_ready(program(x0s, cs, noise_in))
        return np.asarray(f), np.asarray(gn), np.asarray(s), np.asarray(x)
    return run


def check_gradients(problem, points) -> float:
    """Largest relative gap between the closed-form gradient here and jax.grad of the same f."""
    value_and_grad = value_and_grad_of(problem)
    closed = jax.vmap(lambda x: value_and_grad(x)[1])(points)
    auto = jax.vmap(jax.grad(lambda x: value_and_grad(x)[0]))(points)
    return float(jnp.max(jnp.abs(closed - auto)) / jnp.max(jnp.abs(auto)))
