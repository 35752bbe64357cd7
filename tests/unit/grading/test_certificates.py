"""Certificates: names, wildcards, dates and key pairs (checker.grading.certificates)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from checker.grading.certificates import (expiry_problem, host_matches, key_matches,
                                  load_certificate)

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


def make(dns: list[str] | None = None, cn: str | None = "api.example.com",
         start: dt.datetime = NOW - dt.timedelta(days=1),
         end: dt.datetime = NOW + dt.timedelta(days=30)) -> tuple[bytes, bytes]:
    """A self-signed certificate and its key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end))
    if dns is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns]), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@pytest.mark.parametrize(("host", "pattern", "matches"), [
    ("api.example.com", "api.example.com", True),
    ("API.Example.com", "api.example.COM", True),
    ("api.example.com.", "api.example.com", True),
    ("api.example.com", "app.example.com", False),
    ("api.example.com", "*.example.com", True),
    ("app.example.com", "*.example.com", True),
    ("example.com", "*.example.com", False),
    ("a.b.example.com", "*.example.com", False),
    ("api.example.org", "*.example.com", False),
    ("api.example.com", "*", False),
    ("example.com", "*.com", False),
    ("api.example.com", "a*.example.com", False),
    ("api.example.com", "api.*.com", False),
    ("api.example.com", "*.*.com", False),
    ("", "*.example.com", False),
    ("api.example.com", "", False),
])
def test_host_matching_follows_the_wildcard_rules(host, pattern, matches):
    assert host_matches(host, pattern) is matches


def test_names_come_from_the_subject_alt_name_first():
    pem, _ = make(dns=["api.example.com", "app.example.com"], cn="other.example.com")
    cert = load_certificate(pem)
    assert cert.dns_names == ("api.example.com", "app.example.com")
    assert cert.names == cert.dns_names
    assert cert.covers("app.example.com")
    assert not cert.covers("other.example.com")   # a CN is ignored beside SANs
    assert cert.describe_names() == "DNS:api.example.com, DNS:app.example.com"


def test_common_name_counts_only_without_subject_alt_name():
    cert = load_certificate(make(dns=None, cn="*.example.com")[0])
    assert cert.names == ("*.example.com",)
    assert cert.covers("api.example.com") and cert.covers("app.example.com")
    assert cert.describe_names() == "CN=*.example.com (no subjectAltName)"


def test_certificate_without_any_name_covers_nothing():
    cert = load_certificate(make(dns=None, cn=None)[0])
    assert cert.names == () and not cert.covers("api.example.com")
    assert "no name at all" in cert.describe_names()


def test_the_leaf_of_a_chain_is_read():
    leaf, _ = make(dns=["api.example.com"])
    other, _ = make(dns=["ca.example.net"])
    assert load_certificate(leaf + other).dns_names == ("api.example.com",)


@pytest.mark.parametrize("text", ["", "not a certificate", "-----BEGIN CERTIFICATE-----\n"
                                  "bm90IGRlcg==\n-----END CERTIFICATE-----\n"])
def test_garbage_is_a_value_error_that_quotes_nothing(text):
    with pytest.raises(ValueError) as error:
        load_certificate(text)
    assert "bm90" not in str(error.value)


def test_expiry_dates():
    valid = load_certificate(make(dns=["a.example.com"])[0])
    assert expiry_problem(valid, NOW) == ""
    assert expiry_problem(valid, NOW + dt.timedelta(days=31)).startswith("expired on 2026-07-01")
    assert expiry_problem(valid, NOW - dt.timedelta(days=2)).startswith("not valid before")
    old = load_certificate(make(dns=["a.example.com"], start=NOW - dt.timedelta(days=400),
                                end=NOW - dt.timedelta(days=35))[0])
    assert expiry_problem(old, NOW).startswith("expired on 2026-04-27")
    # Without a clock given, the real one is used: this certificate expired long ago.
    assert expiry_problem(old).startswith("expired on")


def test_key_pairs():
    pem, key = make(dns=["a.example.com"])
    _, stranger = make(dns=["a.example.com"])
    cert = load_certificate(pem)
    assert key_matches(cert, key) is True
    assert key_matches(cert, key.decode()) is True
    assert key_matches(cert, stranger) is False
    assert key_matches(cert, "garbage") is None
    assert key_matches(cert, pem) is None           # a certificate is not a key
