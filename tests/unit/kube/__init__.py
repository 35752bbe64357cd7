"""Unit tests of checker.kube: one module per module of the package."""
