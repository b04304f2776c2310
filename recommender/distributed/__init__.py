"""Batch work on Ray (issue 18): embedding backfill, the neighbour table and precompute.

Ray is optional: the modules here import it inside their functions only, and the CLI imports
this package only when ``--ray`` is given or for ``newsrec embed``.
"""
