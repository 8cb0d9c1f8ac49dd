"""Validation of the model against theory and the source texts: ``python -m sim.validate``.

- :mod:`sim.validate.wkh`: the Weisbuch–Kirman–Herreiner loyalty transition
  (L1, brief §4), simulated with ``market=wkh`` and compared with mean-field theory;
- :mod:`sim.validate.facts`: the stylized facts F1–F12 and the findings L2, L3,
  each as a pair of configurations that differ in exactly the factor at stake.
"""
