"""A small multinomial logistic regression over the knowledge base's examples.

The nearest-neighbour score says how close a question is to what people ask;
it cannot learn which words *decide* between neighbouring topics ("private"
means the protected-account topic even when "grok" and "train" are there too).
A linear classifier trained on the same examples, plus Rasa-style out-of-scope
examples as an extra class, learns exactly that. Features are sparse (a dozen
per question), so training is a few hundred cheap full-batch steps at start-up
and a prediction is a sum of a few weight rows.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot import model_cache

CHUNK_CELLS = 1 << 22
"""Largest temporary of a training step, in float cells (16 MB): memory stays flat as
the knowledge base grows, instead of entries x classes."""


def _segment_sums(
    table: np.ndarray, index: np.ndarray, value: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """``np.add.reduceat(table[index] * value, starts)``, a bounded slice at a time.

    Args:
        table: Rows to gather (weights by feature, or errors by sample).
        index: Which row each entry gathers, entries grouped in runs.
        value: Each entry's feature value, shape (entries, 1).
        starts: Where each run begins.
    """
    total = len(index)
    per_chunk = max(1, CHUNK_CELLS // max(1, table.shape[1]))
    if total <= per_chunk:
        return np.add.reduceat(table[index] * value, starts, axis=0)
    out = np.empty((len(starts), table.shape[1]), dtype=table.dtype)
    # Cut only between runs, so that every run is summed within one slice.
    cuts = np.searchsorted(starts, np.arange(0, total, per_chunk), side="right") - 1
    cuts = np.unique(np.r_[cuts, len(starts)])
    for a, b in itertools.pairwise(cuts):
        lo = starts[a]
        hi = starts[b] if b < len(starts) else total
        out[a:b] = np.add.reduceat(table[index[lo:hi]] * value[lo:hi], starts[a:b] - lo, axis=0)
    return out


class SparseSoftmax:
    """Multinomial logistic regression on sets of string features.

    Args:
        n_classes: Number of classes.
        l2: L2 penalty on the weights.
        epochs: Full-batch gradient steps.
        learning_rate: Step size (Adam).
    """

    def __init__(
        self, n_classes: int, *, l2: float = 1e-4, epochs: int = 100, learning_rate: float = 0.05
    ) -> None:
        self.n_classes = n_classes
        self.l2 = l2
        self.epochs = epochs
        self.learning_rate = learning_rate
        self._feature_ids: dict[str, int] = {}
        self._weights = np.zeros((0, n_classes), dtype=np.float32)
        self._bias = np.zeros(n_classes, dtype=np.float32)

    def fit(
        self, samples: Sequence[tuple[dict[str, float], int]], *, balanced: bool = True
    ) -> SparseSoftmax:
        """Train on ``(features with values, class index)`` pairs.

        Args:
            samples: The training set.
            balanced: Weight samples so that every class counts the same in
                total, whatever its number of examples (the out-of-scope class
                has many more examples than any one topic).
        """
        ids = self._feature_ids
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        labels = np.empty(len(samples), dtype=np.int64)
        for i, (feats, label) in enumerate(samples):
            labels[i] = label
            for f, v in feats.items():
                rows.append(i)
                cols.append(ids.setdefault(f, len(ids)))
                vals.append(v)
        n, d, k = len(samples), len(ids), self.n_classes
        row = np.asarray(rows, dtype=np.int64)
        col = np.asarray(cols, dtype=np.int64)
        val = np.asarray(vals, dtype=np.float32)[:, None]
        # Sums over a sample's features and over a feature's samples are done
        # with reduceat on sorted index runs: much faster than np.add.at.
        row_starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        row_ids = row[row_starts]
        by_col = np.argsort(col, kind="stable")
        col_sorted, row_by_col, val_by_col = col[by_col], row[by_col], val[by_col]
        col_starts = np.flatnonzero(np.r_[True, col_sorted[1:] != col_sorted[:-1]])
        col_ids = col_sorted[col_starts]
        w = np.zeros((d, k), dtype=np.float32)
        b = np.zeros(k, dtype=np.float32)
        onehot = np.zeros((n, k), dtype=np.float32)
        onehot[np.arange(n), labels] = 1.0
        if balanced:
            per_class = np.bincount(labels, minlength=k).astype(np.float32)
            sample_weight = 1.0 / per_class[labels]
        else:
            sample_weight = np.ones(n, dtype=np.float32)
        sample_weight = (sample_weight / sample_weight.sum())[:, None]
        # Adam keeps the step count small and insensitive to feature scale.
        mw, vw = np.zeros_like(w), np.zeros_like(w)
        mb, vb = np.zeros_like(b), np.zeros_like(b)
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for step in range(1, self.epochs + 1):
            logits = np.tile(b, (n, 1))
            logits[row_ids] += _segment_sums(w, col, val, row_starts)
            logits -= logits.max(axis=1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=1, keepdims=True)
            err = (probs - onehot) * sample_weight
            gw = self.l2 * w
            gw[col_ids] += _segment_sums(err, row_by_col, val_by_col, col_starts)
            gb = err.sum(axis=0)
            for param, grad, mom, var in ((w, gw, mw, vw), (b, gb, mb, vb)):
                mom *= beta1
                mom += (1 - beta1) * grad
                var *= beta2
                var += (1 - beta2) * grad * grad
                mhat = mom / (1 - beta1**step)
                vhat = var / (1 - beta2**step)
                param -= self.learning_rate * mhat / (np.sqrt(vhat) + eps)
        self._weights, self._bias = w, b
        return self

    def predict_proba(self, feats: dict[str, float]) -> np.ndarray:
        """Class probabilities for one feature set (unknown features are ignored)."""
        logits = self._bias.astype(np.float64)
        for f, v in feats.items():
            j = self._feature_ids.get(f)
            if j is not None:
                logits = logits + v * self._weights[j]
        logits = logits - logits.max()
        probs = np.exp(logits)
        return probs / probs.sum()


# -- trained weights kept between starts ------------------------------------------------

_CACHE_FORMAT = b"sparse-softmax-v1"


def training_key(
    samples: Sequence[tuple[dict[str, float], int]], n_classes: int, **settings: float
) -> str:
    """A digest of everything training depends on: the samples, in order, and the settings.

    The knowledge base's content decides the samples, so a changed example, topic
    or out-of-scope line gives a new key and the model is trained again.
    """
    digest = hashlib.sha256(_CACHE_FORMAT)
    digest.update(repr((n_classes, sorted(settings.items()))).encode())
    for feats, label in samples:
        digest.update(repr((label, sorted(feats.items()))).encode())
    return digest.hexdigest()[:32]


def fit_cached(
    model: SparseSoftmax,
    samples: Sequence[tuple[dict[str, float], int]],
    *,
    directory: Path | None = None,
) -> SparseSoftmax:
    """Train ``model``, or load the weights of the same training from the cache.

    Args:
        model: An untrained model (its settings are part of the key).
        samples: The training set.
        directory: The cache folder; :func:`bot.model_cache.cache_dir` when None.

    Returns:
        The model, trained or loaded.
    """
    key = training_key(
        samples, model.n_classes, l2=model.l2, epochs=model.epochs, lr=model.learning_rate
    )
    found = model_cache.load(key, directory)
    if found is not None:
        names, weights, bias = found
        if weights.shape == (len(names), model.n_classes) and bias.shape == (model.n_classes,):
            model._feature_ids = {n: i for i, n in enumerate(names)}
            model._weights, model._bias = weights.astype(np.float32), bias.astype(np.float32)
            return model
    model.fit(samples)
    model_cache.save(key, list(model._feature_ids), model._weights, model._bias, directory)
    return model
