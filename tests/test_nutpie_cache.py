"""nutpie's compiled model kept on disk: a new process loads it and draws the same."""

import ctypes
import dataclasses
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_moons

from bnn_sklearn import _nutpie_cache
from bnn_sklearn._inference import _exact_arithmetic
from bnn_sklearn._network import Architecture
from bnn_sklearn._nuts import CompiledNUTS

pytest.importorskip("nutpie")

#: The architecture of tests/test_nuts.py (its graph is likely in PyTensor's cache).
ARCH = Architecture(
    n_features=2,
    hidden_layer_sizes=(8,),
    activation="relu",
    n_outputs=1,
    method="nuts",
    batch_size=None,
    likelihood="bernoulli",
)
N_PARAMS = 2 * 8 + 8 + 8 + 1


def moons(n_samples=60, random_state=0):
    return make_moons(n_samples=n_samples, noise=0.2, random_state=random_state)


@contextmanager
def cache_in(folder):
    """nutpie's models kept in ``folder``."""
    original = _nutpie_cache.model_folder
    _nutpie_cache.model_folder = lambda: Path(folder)
    try:
        yield
    finally:
        _nutpie_cache.model_folder = original


def compiled_model(folder, arch=ARCH):
    """A sampler of ``arch``, nutpie's model of it with the cache in ``folder``, and how
    that was made."""
    sampler = CompiledNUTS(arch)
    with cache_in(folder):
        model = sampler._compiled_nutpie(verbose=False)
    return sampler, model, sampler.nutpie_origin


def sample(folder, arch=ARCH) -> tuple[str, np.ndarray, np.ndarray]:
    """How nutpie's model of ``arch`` was made with the cache in ``folder``, and the draws
    of a short run from PyMC's starts and of one from given starts."""
    with cache_in(folder):
        sampler = CompiledNUTS(arch)
        X, y = moons()
        settings = dict(
            sample_weight=np.ones(len(X)),
            prior_scale=1.0,
            sampler="nutpie",
            chains=2,
            tune=30,
            draws=10,
            target_accept=0.8,
            max_treedepth=6,
            seed=3,
            verbose=False,
        )
        plain = sampler.sample(X, y, **settings)
        starts = np.random.default_rng(1).normal(scale=0.5, size=(2, N_PARAMS))
        started = sampler.sample(X, y, starts=starts, **settings)
    return sampler.nutpie_origin, plain.draws, started.draws


def sample_in_a_new_process(folder, environment=None):
    script = textwrap.dedent(
        f"""
        import sys, warnings
        import numpy as np
        warnings.simplefilter("ignore")
        from tests.test_nutpie_cache import sample
        origin, plain, started = sample({str(folder)!r})
        print(origin)
        np.save(sys.stdout.buffer, np.stack([plain, started]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, env=environment
    )
    origin, _, blob = done.stdout.partition(b"\n")
    draws = np.load(__import__("io").BytesIO(blob))
    return origin.decode(), draws[0], draws[1]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The draws of the process that compiled the model into a fresh cache folder."""
    folder = tmp_path_factory.mktemp("nutpie_cache")
    return folder, sample(folder)


def nutpie_model(sampler):
    """nutpie's own compiled model of the sampler's network, under the sampler's settings."""
    import nutpie

    with _exact_arithmetic():
        return nutpie.compile_pymc_model(sampler.network.model)


def logp_at(model, point: np.ndarray) -> tuple[int, float, np.ndarray]:
    """nutpie's compiled log density and gradient of ``model`` at ``point``, as the sampler
    calls them (the C callback, with the model's data record)."""
    point = np.ascontiguousarray(point, dtype=np.float64)
    grad = np.zeros_like(point)
    value = np.zeros(())
    doubles = ctypes.POINTER(ctypes.c_double)
    code = model.compiled_logp_func.ctypes(
        model.n_dim,
        point.ctypes.data_as(doubles),
        grad.ctypes.data_as(doubles),
        value.ctypes.data_as(doubles),
        model.user_data.ctypes.data,
    )
    return code, float(value), grad


def test_the_compiling_process_keeps_the_model(compiled):
    folder, (origin, plain, _) = compiled
    assert origin == "compiled"
    assert len(list(folder.glob("nutpie_*.py"))) == 1
    assert plain.shape == (2, 10, N_PARAMS) and np.all(np.isfinite(plain))


def test_a_new_process_loads_the_model_and_draws_the_same(compiled):
    folder, (_, plain, started) = compiled
    origin, plain_again, started_again = sample_in_a_new_process(folder)
    assert origin == "loaded"
    np.testing.assert_array_equal(plain_again, plain)
    np.testing.assert_array_equal(started_again, started)


def test_the_kept_model_draws_what_nutpie_compiles(compiled, monkeypatch):
    """The same draws as nutpie's own compiled model (the cache switched off)."""
    folder, (_, plain, started) = compiled
    monkeypatch.setenv("BNN_SKLEARN_ENGINE_CACHE", "0")
    origin, plain_nutpie, started_nutpie = sample(folder)
    assert origin == "nutpie"
    np.testing.assert_array_equal(plain_nutpie, plain)
    np.testing.assert_array_equal(started_nutpie, started)


def test_the_loaded_model_reads_each_fits_data(compiled):
    """``with_data`` reaches the callbacks: two datasets give the log densities and
    gradients that nutpie's own model gives for each."""
    folder, _ = compiled
    sampler, loaded, origin = compiled_model(folder)
    assert origin == "loaded"
    reference = nutpie_model(sampler)
    point = np.random.default_rng(0).normal(size=loaded.n_dim)
    values = []
    for n_samples, prior_scale in ((60, 1.0), (45, 2.5)):
        X, y = moons(n_samples, random_state=n_samples)
        data = sampler.network.data(X, y, np.ones(len(X)), len(X), prior_scale)
        code, value, grad = logp_at(loaded.with_data(**data), point)
        expected = logp_at(reference.with_data(**data), point)
        assert code == 0 == expected[0]
        assert value == expected[1]
        np.testing.assert_array_equal(grad, expected[2])
        values.append(value)
    assert values[0] != values[1]


def test_another_architecture_does_not_load_this_ones_model(compiled):
    """Same layer sizes, another activation: another file, compiled, and its own density."""
    folder, _ = compiled
    tanh = dataclasses.replace(ARCH, activation="tanh")
    assert _nutpie_cache.model_path(tanh, folder) != _nutpie_cache.model_path(ARCH, folder)
    models = {}
    for arch in (ARCH, tanh):
        sampler, model, origin = compiled_model(folder, arch)
        assert origin == ("loaded" if arch == ARCH else "compiled")
        X, y = moons()
        data = sampler.network.data(X, y, np.ones(len(X)), len(X), 1.0)
        models[arch] = (model.with_data(**data), sampler, data)
    point = np.random.default_rng(0).normal(size=models[ARCH][0].n_dim)
    relu_value = logp_at(models[ARCH][0], point)[1]
    model, sampler, data = models[tanh]
    expected = nutpie_model(sampler).with_data(**data)
    assert logp_at(model, point)[1] == logp_at(expected, point)[1] != relu_value


def test_an_unwritable_cache_falls_back_to_nutpie(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    _, model, origin = compiled_model(blocker / "nutpie")
    assert origin == "nutpie"
    assert model.n_dim == N_PARAMS


def test_a_damaged_module_is_compiled_again(compiled, tmp_path):
    folder, _ = compiled
    with _exact_arithmetic():  # the settings the sampler compiles under
        kept = _nutpie_cache.model_path(ARCH, folder)
    damaged = tmp_path / kept.name
    damaged.write_text("this is not Python(")
    assert compiled_model(tmp_path)[2] == "compiled"
    assert damaged.read_text() == kept.read_text()
