"""Command line: ``python -m sim.whatif accounts=FILE [key=value ...]``.

Keys (Hydra-style ``key=value``; docs/whatif.md has the details):

- ``accounts``: the accounts CSV (required);
- ``suppliers``: the suppliers YAML or CSV (default: suppliers.yaml beside accounts);
- ``scenarios``: ``[a,b]`` presets of ``configs/scenario/`` or paths to YAML files
  (default: every preset); the baseline always runs;
- ``seeds`` (30), ``horizon`` in months (36), ``jobs`` (processes, default all cores);
- ``at``: month of each scenario's first event (12; ``none`` keeps the YAML's ``t``);
- ``our_supplier``: our firm's id (default: the first supplier);
- ``leaver``: who leaves in ``salesperson_leaves`` events that name nobody:
  ``top_revenue`` (default), ``most_accounts`` or a salesperson id of the book;
- ``follow_months``: months over which a departed salesperson's accounts follow (6);
- ``currency``: label of the book's money in tables and charts (default ``money``);
- ``out``: output folder (default ``results/whatif/<timestamp>``);
- ``history``: the team's monthly history (CSV: revenue, accounts lost; see
  :mod:`sim.whatif.history`): the baseline is first calibrated to it;
  ``history_params`` (``[market.noise:[0.02,0.25],relationship.trust_loss:[2,20]]``),
  ``history_budget`` (16 candidates) and ``history_seeds`` (4) tune that fit;
- any dotted key (``sales.salary=0.6``) overrides the model's config.

Bad input prints one line ``error: …`` on stderr, exits with status 2 and
writes nothing. Fewer than 20 seeds prints a warning (and the report says so).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

MIN_SEEDS = 20  # below this, churn probabilities come in coarse steps: warn
KEYS = ("accounts", "suppliers", "scenarios", "seeds", "horizon", "jobs", "at", "our_supplier",
        "leaver", "follow_months", "currency", "out", "history", "history_params",
        "history_budget", "history_seeds")


class UsageError(ValueError):
    """A command-line argument the what-if does not understand."""


def parse(argv: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Options from ``key=value`` arguments, and the dotted model overrides."""
    from sim.calibrate.targets import split_list
    from sim.whatif.history import DEFAULT_PARAMS
    from sim.whatif.run import FOLLOW_MONTHS, preset_names

    options: dict[str, Any] = {"seeds": 30, "horizon": 36, "jobs": os.cpu_count() or 1,
                               "at": 12, "scenarios": preset_names(), "leaver": "top_revenue",
                               "follow_months": FOLLOW_MONTHS, "currency": "money",
                               "history_params": list(DEFAULT_PARAMS), "history_budget": 16,
                               "history_seeds": 4}
    overrides = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            raise UsageError(f"{arg!r} is not key=value (see python -m sim.whatif --help)")
        if "." in key:
            overrides.append(arg)
        elif key not in KEYS:
            raise UsageError(f"unknown key {key!r}: expected one of {list(KEYS)} or a dotted "
                             "config key such as sales.salary")
        elif key in ("seeds", "horizon", "jobs", "follow_months", "history_budget"):
            options[key] = _integer(key, value, 1)
        elif key == "history_seeds":
            options[key] = _integer(key, value, 2)
        elif key == "history_params":
            options[key] = split_list(value)
        elif key == "at":
            options[key] = None if value.lower() in ("none", "null") else _integer(key, value, 1)
        elif key == "scenarios":
            options[key] = [s.strip() for s in value.strip("[]").split(",") if s.strip()]
        else:
            options[key] = value
    if "accounts" not in options:
        raise UsageError("accounts=FILE is required (e.g. accounts=examples/accounts.csv)")
    return options, overrides


def _integer(key: str, value: str, low: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"{key}={value!r} is not an integer") from None
    if number < low:
        raise UsageError(f"{key}={number} is not allowed: expected an integer ≥ {low}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Validate the inputs, run baseline and scenarios on paired seeds, write the report."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    from omegaconf import OmegaConf

    from sim.calibrate.targets import CalibrationError, parse_param
    from sim.config import ConfigError
    from sim.results import manifest, now, write_json, write_text
    from sim.whatif.book import BookError, load_book
    from sim.whatif.history import calibrate_baseline, load_history
    from sim.whatif.report import paired_table, write_report
    from sim.whatif.run import run_whatif, scenario_configs
    from sim.whatif.start import money_unit

    started = now()
    try:
        options, overrides = parse(argv)
        book = load_book(options["accounts"], options.get("suppliers"),
                         options.get("our_supplier"))
        configs = scenario_configs(book, options["scenarios"], options["horizon"],
                                   options["at"], overrides, options["leaver"],
                                   options["follow_months"])
        history = params = None
        if options.get("history"):
            history = load_history(options["history"])
            params = [parse_param(p) for p in options["history_params"]]
            fixed = {o.partition("=")[0] for o in overrides}
            for p in params:
                if p.key in fixed:
                    raise UsageError(f"history_params: {p.key} is also fixed by an override")
            if history.months > options["horizon"]:
                raise UsageError(f"history={options['history']}: {history.months} months are "
                                 f"more than horizon={options['horizon']}")
    except (UsageError, BookError, ConfigError, CalibrationError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    out = Path(options.get("out") or Path("results") / "whatif" / stamp)
    seeds, horizon = options["seeds"], options["horizon"]
    for note in book.notes:
        print(f"read {note}", file=sys.stderr)
    if seeds < MIN_SEEDS:
        print(f"warning: {seeds} seeds are few: churn probabilities come in steps of "
              f"{1 / seeds:.2g} and intervals are wide; use seeds={MIN_SEEDS} or more",
              file=sys.stderr)
    baseline_fit = None
    if history is not None:
        baseline_fit = calibrate_baseline(book, history, params, overrides,
                                          options["history_budget"], options["history_seeds"],
                                          options["jobs"], progress=True)
        overrides = [*overrides, *baseline_fit.overrides]
        print("baseline calibrated to the history: " + ", ".join(baseline_fit.overrides),
              file=sys.stderr)
        configs = scenario_configs(book, options["scenarios"], horizon, options["at"],
                                   overrides, options["leaver"], options["follow_months"])
    results = run_whatif(book, configs, seeds, options["jobs"], progress=True)
    report = write_report(out, results, book, configs, seeds, horizon, options["currency"],
                          baseline_fit)

    if baseline_fit is not None:
        from sim.calibrate.report import write as write_fit

        write_fit(out / "history_fit", baseline_fit.fit,
                  "python -m sim.whatif " + " ".join(argv))
    inputs = out / "inputs"
    inputs.mkdir(exist_ok=True)
    for source in (book.accounts_path, book.suppliers_path, *(
            [history.path] if history is not None else [])):
        shutil.copyfile(source, inputs / source.name)
    scenarios = {name: OmegaConf.to_container(OmegaConf.structured(s.cfg.scenario))
                 for name, s in configs.items()}
    for name, s in configs.items():  # the book's leaving salespeople by id
        for k, index in s.salespeople.items():
            event = scenarios[name]["events"][k]
            event["salesperson"] = book.suppliers[event["supplier"]].salespeople[index].id
    write_text(inputs / "scenarios.yaml", OmegaConf.to_yaml(scenarios))
    base = configs[results.scenarios[0]].cfg
    write_text(inputs / "config.yaml", OmegaConf.to_yaml(OmegaConf.structured(base)))
    write_json(out / "manifest.json", manifest(
        0, started, now(), seeds=list(range(seeds)), horizon_months=horizon,
        scenarios=results.scenarios, jobs=options["jobs"], our_supplier=book.our_supplier,
        accounts=str(book.accounts_path), suppliers=str(book.suppliers_path),
        money_unit=money_unit(book, base), currency=options["currency"],
        leaver=options["leaver"], follow_months=options["follow_months"],
        input_notes=list(book.notes), overrides=overrides,
        history=None if history is None else str(history.path),
    ))

    table = paired_table(results)
    for scenario, frame in table.groupby("scenario", sort=False):
        cells = frame.set_index("outcome")
        rev, kept = cells.loc["revenue"], cells.loc["accounts_retained"]
        print(f"{scenario:>24}: Δ revenue {rev['difference']:+,.0f} {options['currency']} "
              f"[{rev['ci_low']:+,.0f}, {rev['ci_high']:+,.0f}] P(beats)={rev['p_beats']:.2f}; "
              f"Δ accounts retained {kept['difference']:+.1f} "
              f"[{kept['ci_low']:+.1f}, {kept['ci_high']:+.1f}]")
    print(f"wrote {report} and {out / 'report.md'} in "
          f"{(now() - started).total_seconds():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
