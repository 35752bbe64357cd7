"""Unit tests of checker.grading.checks: the shared facts and the topics."""
