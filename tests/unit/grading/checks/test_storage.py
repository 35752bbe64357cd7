"""Pure helpers of the storage checks."""

from __future__ import annotations

import pytest

from checker.grading.checks.storage import same_image


@pytest.mark.parametrize("a, b, same", [
    ("postgres:16-alpine", "postgres:16-alpine", True),
    ("docker.io/library/postgres:16-alpine", "postgres:16-alpine", True),
    ("docker.io/postgres:16-alpine", "postgres:16-alpine", True),
    ("postgres:16", "postgres:16-alpine", False),
    ("postgres", "postgres:latest", True),
    ("bitnami/postgresql:16", "postgres:16-alpine", False),
])
def test_same_image(a, b, same):
    assert same_image(a, b) is same
