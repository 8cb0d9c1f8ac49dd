"""Command line: ``python -m sim.calibrate targets=FILE [params=[KEY:[LOW,HIGH],...]] ...``.

Keys (Hydra-style ``key=value``; docs/calibration.md §6 has the details):

- ``targets``: YAML file of observed outcomes with standard errors (required;
  e.g. configs/targets/sources.yaml); it may also hold ``params`` and ``overrides``;
- ``params``: ``[relationship.decay:[0.005,0.1],buyers.memory:[0.05,0.3]]``
  (quote it in the shell); replaces the file's ``params``;
- ``budget`` (40): search candidates; ``seeds`` (4): seeds per candidate (common to all);
- ``seed`` (0): the search's seed and the first model seed (seeds ``seed … seed+seeds−1``);
- ``jobs`` (all cores): processes; ``batch`` (4): candidates per search round;
- ``refine`` (2): Levenberg–Marquardt steps after the search;
- ``out``: output folder (default ``results/calibrate/<timestamp>``);
- any other ``key=value`` (a dotted key such as ``market.n_buyers=1000`` or a
  group such as ``strategy=mixed``) fixes the market the targets describe.

Writes ``calibrated.yaml`` (``python -m sim +calibrated=PATH``), ``report.md``
and figures into ``out``. Bad input (unknown key, bad bounds, an unreachable
target) prints one line ``error: …``, exits with status 2 and writes nothing.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

KEYS = ("targets", "params", "budget", "seeds", "seed", "jobs", "batch", "refine", "out")
INTEGERS = {"budget": 1, "seeds": 2, "seed": 0, "jobs": 1, "batch": 1, "refine": 0}
GROUPS = ("strategy", "buyers", "network", "scenario", "market", "steps")


def parse(argv: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Options from ``key=value`` arguments, and the overrides fixing the market."""
    from sim.calibrate.targets import CalibrationError, split_list

    options: dict[str, Any] = {"budget": 40, "seeds": 4, "seed": 0,
                               "jobs": os.cpu_count() or 1, "batch": 4, "refine": 2}
    overrides = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            raise CalibrationError(f"{arg!r} is not key=value (see python -m sim.calibrate "
                                   "--help)")
        if "." in key or key.lstrip("+") in GROUPS:
            overrides.append(arg)
        elif key not in KEYS:
            raise CalibrationError(f"unknown key {key!r}: expected one of {list(KEYS)}, a "
                                   "dotted config key or a config group")
        elif key in INTEGERS:
            try:
                number = int(value)
            except ValueError:
                raise CalibrationError(f"{key}={value!r} is not allowed: expected an "
                                       "integer") from None
            if number < INTEGERS[key]:
                raise CalibrationError(f"{key}={number} is not allowed: expected an integer ≥ "
                                       f"{INTEGERS[key]}")
            options[key] = number
        elif key == "params":
            options[key] = split_list(value)
        else:
            options[key] = value
    if "targets" not in options:
        raise CalibrationError("targets=FILE is required (e.g. "
                               "targets=configs/targets/sources.yaml)")
    return options, overrides


def main(argv: Sequence[str] | None = None) -> int:
    """Check the inputs, fit, write calibrated.yaml and the report."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    from sim.calibrate.targets import CalibrationError, load_problem
    from sim.config import ConfigError

    try:
        options, overrides = parse(argv)
        problem = load_problem(options["targets"], options.get("params"), overrides)
        out = Path(options.get("out") or Path("results") / "calibrate"
                   / datetime.now().strftime("%Y-%m-%d_%H-%M-%S"))
        if out.exists() and any(out.iterdir()):
            raise CalibrationError(f"out={out} is not allowed: the folder is not empty")
    except (CalibrationError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from sim.calibrate.fit import calibrate
    from sim.calibrate.report import write

    fit = calibrate(problem, options["budget"], options["seeds"], options["seed"],
                    options["jobs"], options["batch"], options["refine"], progress=True)
    command = "python -m sim.calibrate " + " ".join(shlex.quote(a) for a in argv)
    report = write(out, fit, command)
    for e in fit.estimates:
        print(f"{e.key}: {e.value:.4g} [{e.low:.4g}, {e.high:.4g}]"
              + ("" if e.identified else " (not identified)"))
    print(f"distance J = {fit.distance:.4g}; {sum(t.within for t in fit.targets)} of "
          f"{len(fit.targets)} targets within 95%; {fit.runs} runs in {fit.seconds:.0f} s")
    print(f"wrote {out / 'calibrated.yaml'} and {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
