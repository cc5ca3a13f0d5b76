"""Groups of rows: their labels, the layout of a grouped posterior, and its NumPy predictive.

A grouped network (``fit(X, y, groups=...)``) has, beside the population's weights, a
spread of the weights and one of the biases of each varying layer, and every group's
standardised offsets; group ``g``'s varying layer is ``population + spread * offsets[g]``.
This module turns posterior draws of that into ordinary networks (one per group, or one
for a group never seen) and runs the rows of each group through their group's network.
Nothing here touches PyMC or PyTensor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, pairwise
from numbers import Integral, Real

import numpy as np

from ._posterior import FORWARD_BUDGET, Posterior, iter_network_draws, parameter_draws

#: Code of a row whose group was not seen in training: it gets a new group's network.
UNSEEN = -1
#: Stream of the seed behind a new group's offsets (beside the posterior's draws).
_NEW_GROUP_STREAM = 1


@dataclass(frozen=True)
class GroupLayout:
    """Where the parts of a grouped posterior sit in its flat parameter vector.

    The flat layout is the ungrouped network's (``w_0.ravel(), b_0, ...``, then the
    likelihood's ``n_extra`` parameters), then the log spreads of the weights and of the
    biases of each layer in ``group_layers`` (two per layer, weights first), then the
    ``(n_groups, n_offsets)`` offsets row by row. One group's
    offsets hold, for each varying layer in order, its weights (raveled) then its biases:
    the same order as that layer's part of the population's vector.
    """

    layer_sizes: tuple[int, ...]
    group_layers: tuple[int, ...]
    n_groups: int
    n_extra: int

    @cached_property
    def _layer_starts(self) -> list[int]:
        sizes = [n_in * n_out + n_out for n_in, n_out in pairwise(self.layer_sizes)]
        return list(accumulate(sizes, initial=0))

    @property
    def n_population(self) -> int:
        """Parameters of the population's network and of the likelihood."""
        return self._layer_starts[-1] + self.n_extra

    @property
    def n_offsets(self) -> int:
        """Offsets of one group."""
        starts = self._layer_starts
        return sum(starts[i + 1] - starts[i] for i in self.group_layers)

    @property
    def size(self) -> int:
        """Every parameter of the grouped posterior."""
        return self.n_population + self.n_scales + self.n_groups * self.n_offsets

    @property
    def n_scales(self) -> int:
        """Log spreads: one of the weights and one of the biases per varying layer."""
        return 2 * len(self.group_layers)

    def split(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The population's part, the log spreads ``(..., n_scales)`` and the offsets
        ``(..., n_groups, n_offsets)`` of flat vectors ``(..., size)``."""
        n_pop, n_scales = self.n_population, self.n_scales
        offsets = flat[..., n_pop + n_scales :]
        return (
            flat[..., :n_pop],
            flat[..., n_pop : n_pop + n_scales],
            offsets.reshape(*flat.shape[:-1], self.n_groups, self.n_offsets),
        )

    def join(self, population, log_scale, offsets) -> np.ndarray:
        """The flat vectors of :meth:`split`'s parts."""
        lead = population.shape[:-1]
        return np.concatenate(
            [population, log_scale, offsets.reshape(*lead, self.n_groups * self.n_offsets)],
            axis=-1,
        )

    def network(self, population, log_scale, offsets) -> np.ndarray:
        """Ungrouped flat vectors ``(n_draws, n_population)`` of one group's network: the
        population's, with each varying layer's weights (biases) moved by their spread
        times the group's ``offsets`` ``(n_draws, n_offsets)``."""
        network = population.copy()
        starts, at = self._layer_starts, 0
        for k, i in enumerate(self.group_layers):
            width, n_biases = starts[i + 1] - starts[i], self.layer_sizes[i + 1]
            spreads = np.exp(log_scale[:, 2 * k : 2 * k + 2])
            scale = np.repeat(spreads, [width - n_biases, n_biases], axis=1)
            network[:, starts[i] : starts[i + 1]] += scale * offsets[:, at : at + width]
            at += width
        return network


def check_group_layers(group_layers, n_layers: int) -> tuple[int, ...]:
    """The layer indices of a ``group_layers`` parameter ("all", "last" or indices, from 0
    for the first layer; negative indices count from the output layer)."""
    if isinstance(group_layers, str):
        return tuple(range(n_layers)) if group_layers == "all" else (n_layers - 1,)
    indices = np.asarray(group_layers, dtype=object).ravel().tolist()
    if not indices or not all(
        isinstance(i, Integral) and not isinstance(i, bool) and -n_layers <= i < n_layers
        for i in indices
    ):
        raise ValueError(
            f"group_layers must be 'all', 'last' or layer indices in [{-n_layers}, "
            f"{n_layers - 1}] (the network has {n_layers} layers of weights), got "
            f"{group_layers!r}."
        )
    layers = sorted({int(i) % n_layers for i in indices})
    return tuple(layers)


def check_groups(groups, n_samples: int) -> np.ndarray:
    """``groups`` as a 1-D array of ``n_samples`` labels (strings or numbers), refused with
    a ValueError when it has another length or shape, or missing labels (None, NaN)."""
    labels = np.asarray(groups)
    if labels.ndim != 1:
        raise ValueError(
            f"groups must be a 1-D array of one label per row, got shape {labels.shape}."
        )
    if len(labels) != n_samples:
        raise ValueError(
            f"groups has {len(labels)} labels for {n_samples} rows of X: pass one group "
            "label per row."
        )
    values = labels.tolist()
    missing = [
        i for i, v in enumerate(values) if v is None or (isinstance(v, Real) and np.isnan(v))
    ]
    if missing:
        raise ValueError(
            f"groups has {len(missing)} missing labels (None or NaN), the first in row "
            f"{missing[0]}: every row needs a group."
        )
    if labels.dtype == object:
        if not all(isinstance(v, str) for v in values) and not all(
            isinstance(v, Real) for v in values
        ):
            raise ValueError("groups must be all strings or all numbers, not a mix.")
        if isinstance(values[0], str) if values else False:
            labels = labels.astype(str)
    return labels


def encode_groups(groups, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct labels of ``groups`` (sorted) and each row's index into them."""
    labels, index = np.unique(check_groups(groups, n_samples), return_inverse=True)
    return labels, index.astype(np.int64)


def group_codes(groups, n_samples: int, known: np.ndarray) -> np.ndarray:
    """Each row's index into the ``known`` labels, :data:`UNSEEN` for a label not among
    them (None: every row is unseen)."""
    if groups is None:
        return np.full(n_samples, UNSEEN, dtype=np.int64)
    lookup = {label: code for code, label in enumerate(known.tolist())}
    values = check_groups(groups, n_samples).tolist()
    return np.array([lookup.get(v, UNSEEN) for v in values], dtype=np.int64)


def grouped_predictive_draws(
    posterior: Posterior,
    layout: GroupLayout,
    activation: str,
    X: np.ndarray,
    codes: np.ndarray,
    n_draws: int,
    seed: int,
    link: Callable[[np.ndarray, np.ndarray], np.ndarray],
    dtype: str = "float64",
) -> Iterator[np.ndarray]:
    """``link`` of each row's network outputs under ``n_draws`` posterior draws, by row
    chunks: a row of group ``codes[i]`` goes through that group's network; a row of an
    :data:`UNSEEN` group through a new group's, whose offsets are drawn from their
    standard-normal prior (one draw per posterior draw, seeded by ``seed``), so that its
    predictive integrates over the groups the population could produce.
    """
    population, log_scale, offsets = layout.split(parameter_draws(posterior, n_draws, seed))
    noise = np.random.default_rng([seed, _NEW_GROUP_STREAM])
    new_group = noise.standard_normal((len(population), layout.n_offsets))
    n_outputs = max(2, layout.layer_sizes[-1])
    rows = max(1, FORWARD_BUDGET // (len(population) * n_outputs))
    for start in range(0, len(X), rows):
        chunk, chunk_codes = X[start : start + rows], codes[start : start + rows]
        out = None
        for code in np.unique(chunk_codes):
            members = np.flatnonzero(chunk_codes == code)
            group_offsets = new_group if code == UNSEEN else offsets[:, code]
            network = layout.network(population, log_scale, group_offsets)
            parts = iter_network_draws(
                network, layout.layer_sizes, activation, chunk[members], link, dtype
            )
            values = np.concatenate(list(parts), axis=1)
            if out is None:
                out = np.empty((values.shape[0], len(chunk), *values.shape[2:]))
            out[:, members] = values
        yield out
