"""Criteria per topic: each topic module exposes CRITERIA, a tuple of `Criterion` values.

The topics import only common.py (what several of them, and the audit, rely on), the state
view (`checker.grading.state`, what they read through) and the grading core's value modules
(model, quantities, certificates), never one another; .importlinter holds them to it.
"""
