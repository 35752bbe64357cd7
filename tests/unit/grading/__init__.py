"""Unit tests of checker.grading: one module per module of the package."""
