"""Calibration to data: fit config parameters to observed outcomes (``python -m sim.calibrate``).

:mod:`sim.calibrate.targets` reads and checks what is fitted (outcomes of
``summary.json`` or F7's effects, with standard errors; parameters with
bounds), :mod:`sim.calibrate.simulate` runs one candidate on one seed,
:mod:`sim.calibrate.fit` searches (optuna, method of simulated moments,
common random numbers) and computes the intervals, and
:mod:`sim.calibrate.report` writes ``calibrated.yaml`` and the report.
The calibration library is imported only here, so ``import sim`` stays cheap.
"""
