"""checker.grading.masking: every spelling of a secret value is masked, and the values to
mask come from the context (or the message is withheld)."""

from __future__ import annotations

import base64
import json

import pytest

from checker.errors import AccessDenied, ClusterUnreachable
from checker.grading.masking import MASK, masked_values, redact

SECRET = "Tr0ub4dor&3-x7Qz"
B64 = base64.b64encode(SECRET.encode()).decode()


def test_redact_masks_the_plain_value() -> None:
    assert redact(f"value is '{SECRET}' here", [SECRET]) == f"value is '{MASK}' here"


def test_redact_masks_the_base64_value() -> None:
    assert redact(f"data.password is '{B64}'", [SECRET]) == f"data.password is '{MASK}'"


def test_redact_masks_base64_without_padding_and_urlsafe() -> None:
    secret = "pa>?ss"  # its standard base64 has '+' or '/', so urlsafe differs
    standard = base64.b64encode(secret.encode()).decode()
    urlsafe = base64.urlsafe_b64encode(secret.encode()).decode()
    assert standard != urlsafe
    for form in (standard, urlsafe, standard.rstrip("="), urlsafe.rstrip("=")):
        assert secret not in redact(f"x {form} y", [secret])
        assert form not in redact(f"x {form} y", [secret])


def test_redact_masks_escaped_spellings() -> None:
    secret = 'it\'s "quoted"\\ ünï'
    for spelled in (repr(secret), json.dumps(secret), json.dumps(secret, ensure_ascii=False)):
        masked = redact(f"found {spelled}", [secret])
        assert spelled[1:-1] not in masked
        assert MASK in masked


def test_redact_masks_bytes_secrets() -> None:
    secret = b"\x00raw-bytes\xff"
    encoded = base64.b64encode(secret).decode()
    assert encoded not in redact(f"data is {encoded}", [secret])
    assert "raw-bytes" not in redact(f"found {secret!r}", [secret])


def test_redact_masks_every_occurrence_of_every_secret() -> None:
    text = f"{SECRET} and {SECRET}, app-user and {B64}"
    masked = redact(text, [SECRET, "app-user"])
    assert masked == f"{MASK} and {MASK}, {MASK} and {MASK}"


def test_redact_masks_the_longer_of_overlapping_secrets_whole() -> None:
    assert redact("hunter2hunter2", ["hunter2", "hunter2hunter2"]) == MASK


def test_redact_ignores_empty_secrets_and_leaves_other_text() -> None:
    assert redact("nothing secret here", ["", b""]) == "nothing secret here"
    assert redact("nothing secret here", []) == "nothing secret here"


class Knows:
    def __init__(self, values=(), error: Exception | None = None) -> None:
        self.values, self.error = list(values), error

    def secret_values(self) -> list[str]:
        if self.error:
            raise self.error
        return self.values


def test_masked_values_are_the_given_ones_and_the_contexts() -> None:
    assert masked_values(Knows(["b"]), ["a"]) == ({"a", "b"}, None)
    assert masked_values(object(), ["a"]) == ({"a"}, None)


def test_a_refused_list_withholds_naming_the_right() -> None:
    known, withheld = masked_values(Knows(error=AccessDenied("list", "secrets", "team-a")))
    assert known == set()
    assert withheld.startswith("message withheld: the checker must hide every Secret value, "
                               "but the credentials may not list secrets in namespace team-a")


def test_any_other_error_withholds_without_its_text() -> None:
    _, withheld = masked_values(Knows(error=RuntimeError(SECRET)))
    assert SECRET not in withheld and withheld.endswith("(RuntimeError)")


def test_an_unreachable_cluster_is_raised() -> None:
    with pytest.raises(ClusterUnreachable):
        masked_values(Knows(error=ClusterUnreachable("gone")))
