"""Unit tests of checker.clusters: one module per module of the package."""
