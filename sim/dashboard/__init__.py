"""The teaching dashboard: a plain Solara page over a live :class:`~sim.model.RelationshipModel`.

Modules, one job each: :mod:`~sim.dashboard.lessons` (what the class is
told), :mod:`~sim.dashboard.settings` (controls → config),
:mod:`~sim.dashboard.data` (the only reader and writer of the model),
:mod:`~sim.dashboard.live` (a run that steps and shocks under one lock and
hands out immutable pictures), :mod:`~sim.dashboard.figures` (SVG charts,
network and table), :mod:`~sim.dashboard.components` (the page).
"""
