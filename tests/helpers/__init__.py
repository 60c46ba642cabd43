"""Shared test helpers: ports, waits, bot processes, knowledge bases.

``tests/`` is on ``sys.path`` (pytest's rootdir import mode; the bench adds it),
so tests import them as ``from helpers.waits import wait_for``.
"""
