"""Floor 1: orbits, ground geometry, beam cells, antenna patterns and the link budget (eq. 1-4).

Pure, deterministic and vectorised; no I/O beyond reading a TLE file it is handed.
"""
