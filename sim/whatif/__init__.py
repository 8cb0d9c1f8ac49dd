"""What-if analysis for strategy teams: their book of accounts, scenarios, a report.

``python -m sim.whatif accounts=examples/accounts.csv scenarios=[salesperson_leaves]``
loads and checks the book (:mod:`sim.whatif.book`), names its sales force
(:mod:`sim.whatif.people`), starts the model from it (:mod:`sim.whatif.start`),
runs the baseline and each scenario on the same seeds (:mod:`sim.whatif.run`)
and writes an HTML and Markdown report (:mod:`sim.whatif.report`). See
docs/whatif.md.
"""
