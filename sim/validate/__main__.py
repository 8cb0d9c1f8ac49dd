"""Command line: ``python -m sim.validate wkh|facts|crossover …``.

Prints a readable report; with ``--json`` the last line of stdout is one JSON
document (an object for ``wkh`` and ``crossover --sensitivity``, a list for
``facts`` and ``crossover``). Exit status: 0 when every check passes (for
``crossover``: both outcomes cross inside the grid in every seed; for
``--sensitivity``: at the baseline), 1 when one fails, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable, Sequence

import numpy as np

from sim.validate import crossover, facts, wkh
from sim.validate.plot import plot_wkh


def _typed(kind: type, ok: Callable[[float], bool], allowed: str) -> Callable[[str], float]:
    """An argparse type: convert with ``kind`` and check ``ok``, else say what is allowed."""
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {allowed}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {allowed}")
        return value
    return convert


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sim.validate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    w = sub.add_parser("wkh", help="WKH loyalty transition vs mean-field theory (L1, §4)")
    w.add_argument("--sellers", type=_typed(int, lambda v: v >= 2, "an integer ≥ 2"),
                   default=2, help="n, number of sellers (≥ 2)")
    w.add_argument("--gamma", type=_typed(float, lambda v: 0 < v <= 1, "a number in (0, 1]"),
                   default=0.1, help="γ, memory (forgetting rate); the bound holds for γ ≤ 0.2")
    w.add_argument("--profit", type=_typed(float, lambda v: v > 0, "a number > 0"),
                   default=1.0, help="π, profit per purchase (> 0)")
    w.add_argument("--buyers", type=_typed(int, lambda v: v >= 1, "an integer ≥ 1"),
                   default=1000, help="buyers per run (the bound needs ≥ 1000)")
    w.add_argument("--seed", type=_typed(int, lambda v: v >= 0, "an integer ≥ 0"), default=0)
    w.add_argument("--horizon", type=_typed(float, lambda v: v > 0, "a number > 0"),
                   default=30.0, help="run length in units of 1/γ (steps = ⌈horizon/γ⌉)")
    w.add_argument("--grid", type=_grid, default="0.5:2.0:0.05",
                   help="β grid as LO:HI:STEP in multiples of β_c (default 0.5:2.0:0.05)")
    w.add_argument("--jobs", type=_typed(int, lambda v: v >= 1, "an integer ≥ 1"), default=1,
                   help="worker processes for the β runs")
    w.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    w.add_argument("--plot", metavar="FILE", help="write the figure (PNG) to FILE")

    f = sub.add_parser("facts", help="stylized facts F1–F12 and L2, L3 as configuration pairs")
    f.add_argument("--seeds", type=_typed(int, lambda v: v >= 2, "an integer ≥ 2"),
                   default=facts.DEFAULT_SEEDS, help="seeds per configuration (≥ 2 for a CI)")
    f.add_argument("--only", nargs="+", metavar="ID", choices=facts.ids(),
                   help="run only these facts (e.g. F7 L2)")
    f.add_argument("--json", action="store_true", help="print one JSON list on the last line")

    c = sub.add_parser("crossover", help="needs breadth where company-wide overtakes lone "
                                         "sellers in share and profit (with 95% CIs)")
    c.add_argument("--seeds", type=_typed(int, lambda v: v >= 2, "an integer ≥ 2"),
                   help=f"seeds (≥ 2 for a CI; default {facts.DEFAULT_SEEDS}, "
                        f"{crossover.SENSITIVITY_SEEDS} with --sensitivity)")
    c.add_argument("--json", action="store_true", help="print one JSON document on the last line")
    c.add_argument("--plot", metavar="FILE", help="write the figure (PNG) to FILE")
    c.add_argument("--sensitivity", action="store_true",
                   help="one-at-a-time sensitivity of both crossovers to each free parameter")
    c.add_argument("--factor", type=_typed(float, lambda v: 0 < v < 1, "a number in (0, 1)"),
                   default=crossover.FACTOR, help="--sensitivity: vary each parameter "
                   "×(1 − f) and ×(1 + f) (default %(default)s)")
    c.add_argument("--params", nargs="+", metavar="NAME", choices=crossover.free_parameters(),
                   help="--sensitivity: only these parameters (dotted config paths)")
    c.add_argument("--jobs", type=_typed(int, lambda v: v >= 1, "an integer ≥ 1"), default=1,
                   help="--sensitivity: worker processes")
    c.add_argument("--out", metavar="FILE", help="--sensitivity: also write the JSON to FILE")
    c.add_argument("--cache", metavar="FILE", help="--sensitivity: keep finished runs in FILE "
                   "(JSON lines) and resume from it")
    return p


def _grid(text: str) -> tuple[float, ...]:
    """Parse ``LO:HI:STEP`` (multiples of β_c) into a tuple of grid points."""
    try:
        lo, hi, step = (float(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not LO:HI:STEP, e.g. 0.5:2.0:0.05") from None
    if not (0 < lo < hi and 0 < step <= hi - lo):
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 < LO < HI and 0 < STEP ≤ HI − LO")
    return tuple(np.round(np.arange(lo, hi + step / 2, step), 6))


def _run_wkh(args: argparse.Namespace) -> int:
    case = wkh.WKHCase(sellers=args.sellers, gamma=args.gamma, profit=args.profit,
                       buyers=args.buyers, seed=args.seed, horizon=args.horizon, grid=args.grid)
    result = wkh.run_wkh(case, jobs=args.jobs)
    if math.isnan(result["beta_mid_measured"]):
        print("the simulated curve does not cross the midpoint inside --grid: widen it",
              file=sys.stderr)
    for key in ("beta_c_analytic", "beta_saddle_node", "beta_mid_meanfield",
                "beta_mid_measured", "relative_error", "beta_mid_meanfield_down",
                "beta_mid_measured_down", "relative_error_down"):
        if key in result:
            print(f"{key:>24} = {result[key]:.4f}")
    low, high = result["window"]
    rule = (f"relative_error ≤ {wkh.TOLERANCE}" if args.sellers == 2 else
            f"beta_mid_measured in [{low:.4f}, {high:.4f}]: the mean-field window "
            f"[mid down, mid] widened by {wkh.TOLERANCE:.0%} of each end")
    print(f"{'passed':>24} = {result['passed']}  ({rule})")
    if args.plot:
        print(f"{'figure':>24} = {plot_wkh(result, args.plot)}")
    if args.json:
        print(json.dumps(_finite_or_null(result)))
    return 0 if result["passed"] else 1


def _finite_or_null(result: dict) -> dict:
    """NaN (no crossing inside the grid) becomes null, so that the line is strict JSON."""
    def clean(v: object) -> object:
        if isinstance(v, list):
            return [clean(x) for x in v]
        return None if isinstance(v, float) and math.isnan(v) else v
    return {k: clean(v) for k, v in result.items()}


def _run_facts(args: argparse.Namespace) -> int:
    rows = facts.run_facts(args.seeds, args.only)
    print(facts.table(rows))
    if args.json:
        print(json.dumps([r.as_dict() for r in rows]))
    return 0 if all(r.passed for r in rows) else 1


def _run_crossover(args: argparse.Namespace) -> int:
    if args.sensitivity:
        return _run_sensitivity(args)
    rows = crossover.measure(args.seeds or facts.DEFAULT_SEEDS)
    print(crossover.table(rows))
    if args.plot:
        print(f"figure: {crossover.plot(args.seeds or facts.DEFAULT_SEEDS, args.plot)}")
    if args.json:
        print(json.dumps([r.as_dict() for r in rows]))
    return 0 if all(r.crossed == r.seeds for r in rows) else 1


def _run_sensitivity(args: argparse.Namespace) -> int:
    result = crossover.sensitivity(args.params, args.seeds or crossover.SENSITIVITY_SEEDS,
                                   args.factor, jobs=args.jobs, cache=args.cache)
    for k in crossover.OUTCOMES:
        print(crossover.sensitivity_table(result, k), end="\n\n")
    doc = result.as_dict()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            rows = ",\n".join(json.dumps(r) for r in doc["rows"])  # one parameter a line
            head = json.dumps({k: v for k, v in doc.items() if k != "rows"})
            fh.write(f'{head[:-1]}, "rows": [\n{rows}\n]}}\n')
        print(f"written: {args.out}")
    if args.json:
        print(json.dumps(doc))
    return 0 if all(c.crossed == c.seeds for c in result.baseline.values()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one validation; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    run = {"wkh": _run_wkh, "facts": _run_facts, "crossover": _run_crossover}[args.command]
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
