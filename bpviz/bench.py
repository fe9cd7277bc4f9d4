"""Benchmarks: ``python -m bpviz.bench`` (or ``bpviz bench``).

Prints one table of rows (section, name, value, unit, target) after a few lines about
the machine; ``--json`` prints the same as one JSON object. A row with a target gets
"ok" or "MISSED". Every section is a function from the parsed options to a list of
``Row``s, listed in ``SECTIONS``; add a section (the GUI rows, say) by adding one.

How the engine is timed: headless, float64, one BLAS thread, time.perf_counter, a
warm-up, then the best of several repeats. The timings run in a child process
started with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1: environment
variables only work before NumPy is first imported, and a child is the one place
where that is certain (the caller may have imported NumPy already; threadpoolctl
may not be installed). When threadpoolctl is installed the child also calls
``threadpool_limits(1)`` and reports the thread count it got. Like the training
process and ``bpviz train``, the engine and memory children keep freed memory for
reuse (bpviz.allocator). The memory rows run
in children of their own, so the resident size is that of the training alone.
The window's sections (visualised, drawing, responsiveness; bpviz.bench_gui) run
in children with QT_QPA_PLATFORM=offscreen, so Qt is never imported here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from typing import NamedTuple

from bpviz.allocator import reuse_freed_memory

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class Row(NamedTuple):
    """One figure. ``target`` is None or (comparison, bound), e.g. ("<=", 25.0)."""

    section: str
    name: str
    value: float
    unit: str
    target: tuple[str, float] | None = None

    @property
    def status(self) -> str:
        if self.target is None:
            return ""
        op, bound = self.target
        met = {"<=": self.value <= bound, "<": self.value < bound,
               ">=": self.value >= bound, ">": self.value > bound}[op]
        return "ok" if met else "MISSED"


# ------------------------------------------------------------------ machine
def machine_info() -> dict[str, str]:
    """CPU, cores, Python, NumPy, BLAS and, if installed, Qt and pyqtgraph versions.
    Never imports Qt: package versions come from the installed metadata."""
    import numpy as np

    info = {"cpu": _cpu_model(), "cores": _cores(), "python": platform.python_version(),
            "numpy": np.__version__, "blas": _blas_description()}
    for label, dist in (("qt (PySide6)", "PySide6-Essentials"), ("pyqtgraph", "pyqtgraph")):
        try:
            info[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cores() -> str:
    total = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = total
    return str(total) if usable == total else f"{usable} usable of {total}"


def _blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        import numpy as np

        try:
            blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            return f"{blas.get('name', '?')} {blas.get('version', '')} (threadpoolctl not installed)".strip()
        except Exception:  # show_config's layout is not an API; never fail a benchmark on it
            return "unknown (threadpoolctl not installed)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return "none found by threadpoolctl"
    return "; ".join(f"{p.get('internal_api')} {p.get('version')} {p.get('architecture', '')}, "
                     f"{p.get('num_threads')} threads by default" for p in pools)


# ------------------------------------------------------------------- timing
def best_seconds(fn: Callable[[], object], number: int, repeats: int, warmup: int) -> float:
    """Seconds per call of ``fn``: the best of ``repeats`` runs of ``number`` calls."""
    for _ in range(warmup):
        fn()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def plain_stepper(trainer) -> Callable[[], None]:
    """One forward pass, backward pass and plain gradient-descent update per call, on
    the trainer's data and batch size, keeping nothing: training as fast as the engine
    goes when no window watches. The arithmetic is Trainer.step's with SGD; what is
    left out is the TrainStep (the update's changes) that the window needs."""
    from bpviz.engine.network import quiet_floats

    net, X, T, size = trainer.net, trainer.X, trainer.T, trainer.batch_size
    learning_rate = trainer.optimizer.learning_rate
    batches = itertools.cycle([trainer.order[s:s + size] for s in range(0, len(X) - size + 1, size)])

    @quiet_floats
    def step() -> None:
        idx = next(batches)
        if size == 1:
            i = idx[0]
            record = net._backprop(X[i:i + 1], T[i:i + 1])
        else:
            record = net._backprop(X[idx], T[idx])
        net.update(record, learning_rate)

    return step


def _counts(quick: bool) -> dict[str, int]:
    if quick:
        return {"sample": 200, "batch": 20, "large": 3, "repeats": 2, "warmup": 20}
    return {"sample": 5000, "batch": 600, "large": 60, "repeats": 5, "warmup": 500}


# ------------------------------------------------------------------- engine
def engine_rows_here(quick: bool) -> list[Row]:
    """The engine timings, in this process (call it where BLAS has one thread)."""
    import numpy as np

    from bpviz.engine import SGD, Network, Trainer
    from bpviz.settings import Settings

    n = _counts(quick)
    rows = []

    def time_both(trainer, label: str, per_sample: bool) -> tuple[float, float]:
        """Seconds per step with the record (Trainer.step: everything the window needs)
        and without it (plain_stepper). Both train the same network on, so the
        figures are for weights that are learning."""
        number = n["sample"] if per_sample else (n["batch"] if trainer.batch_size < 64 else n["large"])
        times = []
        for how, fn in (("with record", trainer.step), ("no record", plain_stepper(trainer))):
            seconds = best_seconds(fn, number, n["repeats"], min(n["warmup"], number))
            times.append(seconds)
            if per_sample:
                target = ("<=", 25.0) if label.startswith("4-5-3") and how == "with record" else None
                rows.append(Row("engine", f"step {label}, per sample, {how}", seconds * 1e6, "µs", target))
            else:
                rows.append(Row("engine", f"{label}, {how}", trainer.batch_size / seconds, "samples/s"))
        return times[0], times[1]

    rows.append(Row("engine", "BLAS threads during the timings", _blas_threads(), "threads", ("<=", 1)))
    _, _, iris = Settings(dataset="iris", hidden=(5,), epochs=None).build()
    time_both(iris, "4-5-3 iris", True)
    digits = Settings(dataset="digits", hidden=(32, 16), epochs=None)
    time_both(digits.build()[2], "64-32-16-10 digits", True)
    time_both(digits.with_(mode="batch", batch_size=32).build()[2], "64-32-16-10 digits, batch 32", False)

    # 784-128-64-10 on random data of that shape, the usual MNIST-sized MLP: ReLU hidden
    # layers, softmax with cross-entropy. (tanh would add its own cost: NumPy's float64
    # tanh is not vectorised on every CPU and then costs ~13 ns an element.)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1024, 784))
    T = np.eye(10)[rng.integers(0, 10, len(X))]
    net = Network([784, 128, 64, 10], "relu", "softmax", "cross_entropy", init="he", seed=0)
    large = Trainer(net, X, T, SGD(0.01), batch_size=64, seed=0)
    with_record, no_record = time_both(large, "784-128-64-10 random, batch 64", False)
    rows.append(Row("engine", "784-128-64-10, batch 64, page faults per step", _faults_per_step(large.step, n["large"]),
                    "faults"))
    record = net.backprop(X[:64], T[:64])
    seconds = best_seconds(lambda: _products(net, record), n["large"], n["repeats"], min(n["warmup"], n["large"]))
    rows.append(Row("engine", "784-128-64-10, batch 64, its 8 matrix products alone", 64 / seconds, "samples/s"))
    rows.append(Row("engine", "784-128-64-10 step time / products alone, with record", with_record / seconds,
                    "×", ("<=", 1.10)))
    rows.append(Row("engine", "784-128-64-10 step time / products alone, no record", no_record / seconds,
                    "×", ("<=", 1.10)))
    return rows


def _faults_per_step(step: Callable[[], object], number: int) -> float:
    """Minor page faults per call: fresh arrays of ~1 MB (a gradient, a change) come
    from newly mapped pages whenever the C allocator has given the last ones back,
    and each fault costs microseconds. Zero where the platform does not count them."""
    try:
        import resource
    except ImportError:
        return 0.0
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(number):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / number


def _products(net, record) -> None:
    """The matrix products of one training step, with the engine's shapes: a·W forward
    for every layer, aᵀ·δ for every weight gradient and δ·Wᵀ for every delta but the
    first layer's (3 + 3 + 2 for three weight matrices)."""
    acts, deltas, weights = record.activations, record.deltas, net.weights
    for a, W in zip(acts, weights):
        a.dot(W)
    for k in range(len(weights) - 1, -1, -1):
        acts[k].T.dot(deltas[k])
        if k:
            deltas[k].dot(weights[k].T)


def _blas_threads() -> float:
    """The BLAS thread count in force: threadpoolctl's figure, else the environment's."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return float(os.environ.get("OPENBLAS_NUM_THREADS", "nan"))
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return float(max(counts)) if counts else math.nan


# ------------------------------------------------------------------- memory
def resident_mib() -> float:
    """VmRSS of this process from /proc/self/status, in MiB (NaN where there is none)."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def memory_rows_here(steps: int) -> list[Row]:
    """Resident size after ``steps`` per-sample Iris steps of the window's training loop
    (the rewind buffer, the per-epoch figures), without publishing snapshots."""
    from bpviz.settings import Settings
    from bpviz.training_loop import TrainingLoop, _Model

    dataset, net, trainer = Settings(dataset="iris", hidden=(5,), epochs=None).build()
    loop, model = TrainingLoop(lambda event, value: None), _Model(dataset, net, trainer, None, 1)
    for _ in range(steps):
        loop._train_step(model)
    return [Row("memory", f"resident size after {steps:,} Iris steps, history on", resident_mib(), "MiB")]


# ------------------------------------------------------------- the children
def _run_child(args: list[str], gui: bool = False) -> list[Row]:
    env = dict(os.environ, **{name: "1" for name in THREAD_VARIABLES})
    if gui:
        env["QT_QPA_PLATFORM"] = "offscreen"
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "bpviz.bench", "--child", *args],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {' '.join(args)} failed:\n{done.stderr.strip()}")
    return [Row(r[0], r[1], r[2], r[3], None if r[4] is None else tuple(r[4]))
            for r in json.loads(done.stdout)]


def _child_main(kind: str, quick: bool, steps: int) -> int:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if kind in ("engine", "memory"):
        reuse_freed_memory()  # as the training process and `bpviz train` do
    if kind == "engine":
        run = lambda: engine_rows_here(quick)  # noqa: E731
    elif kind == "memory":
        run = lambda: memory_rows_here(steps)  # noqa: E731
    else:
        from bpviz.bench_gui import KINDS  # the only place the benchmark imports Qt

        run = lambda: KINDS[kind](quick)  # noqa: E731
    if threadpool_limits is None:
        rows = run()
    else:
        with threadpool_limits(1, user_api="blas"):
            rows = run()
    print(json.dumps([list(r) for r in rows]))
    return 0


def engine_rows(options: argparse.Namespace) -> list[Row]:
    return _run_child(["engine"] + (["--quick"] if options.quick else []))


def memory_rows(options: argparse.Namespace) -> list[Row]:
    rows = _run_child(["memory", "--steps", "10000"])
    if options.long:
        rows += _run_child(["memory", "--steps", "1000000"])
        rows.append(Row("memory", "resident size after 1,000,000 / after 10,000 steps",
                        rows[1].value / rows[0].value, "×", ("<=", 1.2)))
    return rows


def _gui_section(kind: str) -> Callable[[argparse.Namespace], list[Row]]:
    """A section of window figures, measured in a child with the offscreen Qt platform."""
    def rows(options: argparse.Namespace) -> list[Row]:
        return _run_child([kind] + (["--quick"] if options.quick else []), gui=True)

    rows.__name__ = f"{kind}_rows"
    return rows


GUI_KINDS = ("visualised", "drawing", "responsiveness")
SECTIONS: list[Callable[[argparse.Namespace], list[Row]]] = [
    engine_rows, *(_gui_section(kind) for kind in GUI_KINDS), memory_rows]


# ------------------------------------------------------------------- output
def three_figures(value: float) -> str:
    """A number to 3 significant figures, with thousands separators above 1,000."""
    if not math.isfinite(value) or value == 0:
        return str(value)
    digits = 2 - math.floor(math.log10(abs(value)))
    rounded = round(value, digits)
    return f"{rounded:,.0f}" if digits <= 0 else f"{rounded:.{digits}f}"


def format_table(machine: dict[str, str], rows: list[Row]) -> str:
    lines = [f"{key:>14}: {value}" for key, value in machine.items()]
    header = ("section", "benchmark", "value", "unit", "target", "")
    body = [(r.section, r.name, three_figures(r.value), r.unit,
             "" if r.target is None else f"{r.target[0]} {three_figures(r.target[1])}", r.status) for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    aligns = ("<", "<", ">", "<", "<", "<")
    for line in [header, tuple("-" * w for w in widths), *body]:
        lines.append("  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(line, aligns, widths)).rstrip())
    return "\n".join(lines)


def to_json(machine: dict[str, str], rows: list[Row]) -> dict:
    return {"machine": machine,
            "rows": [{"section": r.section, "name": r.name, "value": r.value, "unit": r.unit,
                      "target": None if r.target is None else list(r.target), "status": r.status}
                     for r in rows]}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bpviz bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--quick", action="store_true", help="tiny repeat counts (a smoke test, not a measurement)")
    parser.add_argument("--long", action="store_true", help="also measure memory after 1,000,000 steps (~30 s more)")
    parser.add_argument("--child", choices=("engine", "memory", *GUI_KINDS), help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=10_000, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.child:
        return _child_main(options.child, options.quick, options.steps)
    rows = [row for section in SECTIONS for row in section(options)]
    machine = machine_info()
    print(json.dumps(to_json(machine, rows), indent=2, ensure_ascii=False) if options.json
          else format_table(machine, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
