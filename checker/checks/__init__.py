"""Criteria per topic: each topic module exposes CRITERIA, a tuple of `Criterion` values.

The topics import only common.py (what several of them, and the audit, rely on) and state.py
(what they read through), never one another; .importlinter holds them to it.
"""
