"""Quantities and ports compare by meaning: checker.grading.quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest

from checker.grading.quantities import parse_quantity, resolve_port, same_quantity


@pytest.mark.parametrize(("text", "value"), [
    ("100m", Decimal("0.1")),
    ("0.1", Decimal("0.1")),
    (".5", Decimal("0.5")),
    ("1.", Decimal(1)),
    ("2", Decimal(2)),
    ("+3", Decimal(3)),
    ("-1", Decimal(-1)),
    ("512Mi", Decimal(512 * 2**20)),
    ("1.5Gi", Decimal(3 * 2**29)),
    ("1Ki", Decimal(1024)),
    ("1Ti", Decimal(2**40)),
    ("1Ei", Decimal(2**60)),
    ("128M", Decimal(128_000_000)),
    ("2k", Decimal(2000)),
    ("1G", Decimal(10**9)),
    ("1E", Decimal(10**18)),
    ("250n", Decimal("0.000000250")),
    ("5u", Decimal("0.000005")),
    ("1e3", Decimal(1000)),
    ("1E3", Decimal(1000)),
    ("2.5e-3", Decimal("0.0025")),
    ("1e+2", Decimal(100)),
])
def test_parse_quantity_gives_the_exact_value(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(("given", "value"), [
    (3, Decimal(3)),
    (0.1, Decimal("0.1")),
    (1.5, Decimal("1.5")),
    (Decimal("0.25"), Decimal("0.25")),
])
def test_parse_quantity_takes_numbers(given: object, value: Decimal) -> None:
    assert parse_quantity(given) == value


@pytest.mark.parametrize(("a", "b"), [
    ("0.1", "100m"),
    ("536870912", "512Mi"),
    ("1.5Gi", "1536Mi"),
    ("1e3", "1k"),
    ("2k", "2000"),
    ("1", "1000m"),
    (0.5, "500m"),
    (536870912, "512Mi"),
    ("128Mi", "134217728"),
    ("1000M", "1G"),
])
def test_same_quantity_holds_for_equal_amounts(a: object, b: object) -> None:
    assert same_quantity(a, b)
    assert same_quantity(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("128M", "128Mi"),
    ("1k", "1Ki"),
    ("100m", "100"),
    ("512Mi", "512M"),
    ("1", "1m"),
    ("1E", "1Ei"),
])
def test_same_quantity_fails_for_different_amounts(a: str, b: str) -> None:
    assert not same_quantity(a, b)
    assert not same_quantity(b, a)


def test_quantities_order_by_amount() -> None:
    assert parse_quantity("100m") < parse_quantity("500m") < parse_quantity("1")
    assert parse_quantity("128Mi") < parse_quantity("512M") < parse_quantity("512Mi")


@pytest.mark.parametrize("text", [
    "", " ", "abc", "12x", "1.2.3", "Mi", "1 Mi", " 1", "1mi", "1KI", "1K", "e3", "1e",
    "1e3.5", "1Gi2", "--1", "0x10", "1,5", "1/2", "nan", "inf", "١٢",
])
def test_parse_quantity_rejects_malformed_text_clearly(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity") as caught:
        parse_quantity(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize("value", [True, None, float("nan"), float("inf"), ["1"]])
def test_parse_quantity_rejects_values_that_are_not_amounts(value: object) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(value)  # type: ignore[arg-type]


def test_same_quantity_raises_on_a_malformed_side() -> None:
    with pytest.raises(ValueError, match="'12x'"):
        same_quantity("100m", "12x")


PORTS = [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
         {"name": "metrics", "containerPort": 9797}]


@pytest.mark.parametrize(("port", "number"), [
    (8080, 8080),
    (9898, 9898),
    ("8080", 8080),
    ("http", 8080),
    ("metrics", 9797),
])
def test_resolve_port_gives_the_number(port: int | str, number: int) -> None:
    assert resolve_port(port, PORTS) == number


@pytest.mark.parametrize("port", ["web", "HTTP", "", "8080x"])
def test_resolve_port_returns_none_for_an_unknown_name(port: str) -> None:
    assert resolve_port(port, PORTS) is None


def test_resolve_port_with_no_container_ports() -> None:
    assert resolve_port("http", []) is None
    assert resolve_port("http", None) is None  # type: ignore[arg-type]
    assert resolve_port(8080, []) == 8080


def test_resolve_port_reads_the_python_clients_spelling() -> None:
    assert resolve_port("http", [{"name": "http", "container_port": 8080}]) == 8080


def test_resolve_port_ignores_unnamed_ports() -> None:
    assert resolve_port("http", [{"containerPort": 80}, {"name": "http", "containerPort": 81}]) == 81


@pytest.mark.parametrize("port", [True, 8080.0, None])
def test_resolve_port_rejects_non_ports(port: object) -> None:
    with pytest.raises(ValueError, match="not a port"):
        resolve_port(port, PORTS)  # type: ignore[arg-type]
