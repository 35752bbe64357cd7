"""Keeping Secret values out of everything the grader says: which values to hide, and
hiding them in every spelling a message may use.

The contract (EXERCISES.md): no Secret value is printed by any check, report, log or error,
whatever happens. The runner and the audit mask what they say with `redact`, over the values
`masked_values` gets from the state view; when those cannot be had, they withhold.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ..errors import AccessDenied, ClusterUnreachable

MASK = "***"
"""What a secret value is replaced with in every message."""


def redact(text: str, secrets: Iterable[str | bytes]) -> str:
    """`text` with every secret value, in plain, quoted-escaped or base64 form, masked."""
    forms: set[str] = set()
    for secret in secrets:
        forms.update(_spellings(secret))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def _spellings(secret: str | bytes) -> set[str]:
    """The ways a message may spell a secret: itself, escaped by repr or JSON, base64."""
    if isinstance(secret, bytes):
        raw = secret
        plain = secret.decode("utf-8", errors="replace")
        escaped = {repr(secret)[2:-1]}
    else:
        raw = secret.encode("utf-8", errors="surrogatepass")
        plain = secret
        escaped = {repr(secret)[1:-1], json.dumps(secret)[1:-1],
                   json.dumps(secret, ensure_ascii=False)[1:-1]}
    if not raw:
        return set()
    encoded = {base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")}
    forms = {plain, *escaped, *encoded, *(form.rstrip("=") for form in encoded)}
    return {form for form in forms if form}


@runtime_checkable
class SecretSource(Protocol):
    """A context that can say which secret values to hide (the state view does)."""

    def secret_values(self) -> Iterable[str | bytes]:
        """Every secret value the context holds or has read."""
        ...


def masked_values(context: object, secrets: Iterable[str | bytes] | None = None
                  ) -> tuple[set[str | bytes], str | None]:
    """The values to mask (`secrets` plus the context's), and, when the context could not
    say its own, the message to show instead of anything that might hold one."""
    known = set(secrets or ())
    if not (isinstance(context, SecretSource) and callable(context.secret_values)):
        return known, None
    try:
        known.update(context.secret_values())
    except ClusterUnreachable:
        raise
    except AccessDenied as refused:
        return known, (f"message withheld: the checker must hide every Secret value, but "
                       f"{refused}")
    except Exception as error:
        return known, ("message withheld: the checker could not list the secret values it "
                       f"must hide ({type(error).__name__})")
    return known, None
