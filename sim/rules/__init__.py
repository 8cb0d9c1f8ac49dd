"""The mechanisms of the brief, one small function each (M5–M14).

Every function is written for arrays whose last axis runs over suppliers: a
buyer's row of shape ``(M,)`` or the whole matrix ``(N, M)``. Per-buyer
parameters come with a trailing axis (``(N, 1)`` or a scalar), so broadcasting
does the rest. Functions return new arrays or update the ones they are given
in place, as their docstrings say; none draws random numbers itself unless it
is handed a generator.
"""
