"""Teaching dashboard: ``solara run sim/app.py`` (``make dashboard``) serves :func:`Page`.

The app lives in :mod:`sim.dashboard`: lesson text (``lessons``), settings
(``settings``), the one module that reads the model (``data``), the live run
(``live``), the pictures (``figures``) and the Solara components
(``components``).
"""

import solara.server.settings

from sim.dashboard.components import Page

solara.server.settings.theme.show_banner = False  # "This website runs on Solara" covers the table

__all__ = ["Page"]
