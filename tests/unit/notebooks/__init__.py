"""Unit tests of checker.notebooks: one module per module of the package."""
