"""Kubernetes quantities and ports, compared by meaning rather than by spelling.

`0.1` equals `100m`, `536870912` equals `512Mi`, `128M` does not equal `128Mi`; a named
port is resolved to the number of the container port that carries that name.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"),
            "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18")}
# The grammar of k8s.io/apimachinery resource.Quantity: number, then one suffix at most.
# A bare "E" is the exa suffix; "E" or "e" followed by an integer is an exponent.
_QUANTITY = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))"
                       r"(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?", re.ASCII)
# Enough digits that no valid quantity is rounded while being scaled.
_EXACT = decimal.Context(prec=100)


def parse_quantity(value: str | int | float | Decimal) -> Decimal:
    """The exact value of a Kubernetes quantity (`100m` -> 0.1); ValueError if malformed."""
    if isinstance(value, bool):
        raise ValueError(f"not a Kubernetes quantity: {value!r} is a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, (float, Decimal)):
        # str() of a float is its shortest round-trip spelling: 0.1 stays 0.1.
        number = Decimal(str(value)) if isinstance(value, float) else value
        if not number.is_finite():
            raise ValueError(f"not a Kubernetes quantity: {value!r} is not a finite number")
        return number
    if not isinstance(value, str):
        raise ValueError(f"not a Kubernetes quantity: {value!r} is a {type(value).__name__}")
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise ValueError(
            f"not a Kubernetes quantity: {value!r} (expected a number with at most one "
            "suffix, such as 100m, 0.5, 512Mi, 1.5Gi, 128M, 2k or 1e3)")
    number, exponent, suffix = match.groups()
    if exponent is not None:
        return _EXACT.scaleb(Decimal(number), int(exponent[1:]))
    factor = _BINARY[suffix] if suffix in _BINARY else _DECIMAL[suffix or ""]
    return _EXACT.multiply(Decimal(number), Decimal(factor))


def same_quantity(a: str | int | float | Decimal, b: str | int | float | Decimal) -> bool:
    """Whether two quantities mean the same amount; ValueError if either is malformed."""
    return parse_quantity(a) == parse_quantity(b)


def resolve_port(port: int | str, container_ports: Iterable[Mapping[str, object]]) -> int | None:
    """The port number `port` means: a number stays itself, a name is looked up.

    `container_ports` are entries of a container's `ports`, as the API's JSON gives them
    (`{"name": "http", "containerPort": 8080}`; `container_port` is accepted too, as the
    Python client's `to_dict()` spells it). Returns None when no container port has the name.
    """
    if isinstance(port, bool):
        raise ValueError(f"not a port: {port!r}")
    if isinstance(port, int):
        return port
    if not isinstance(port, str):
        raise ValueError(f"not a port: {port!r} is a {type(port).__name__}")
    if port.isascii() and port.isdigit():
        return int(port)
    for entry in container_ports or ():
        if entry.get("name") == port:
            number = entry.get("containerPort", entry.get("container_port"))
            return number if isinstance(number, int) and not isinstance(number, bool) else None
    return None
