"""Certificates for the `ingress` exercise's TLS Secret, made in the test, never read from
disk: the hosts the task names, or others, expired or not."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOSTS = ["api.example.com", "app.example.com"]
"""The hosts the `ingress` task's Ingress serves."""


def certificate(hosts: list[str] | None = None, cn: str | None = None, days: int = 30,
                expired: bool = False) -> tuple[bytes, bytes]:
    """A self-signed certificate for `hosts` (subjectAltName) and its key, PEM."""
    hosts = HOSTS if hosts is None else hosts
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    start, end = ((now - dt.timedelta(days=400), now - dt.timedelta(days=35)) if expired
                  else (now - dt.timedelta(hours=1), now + dt.timedelta(days=days)))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn or (hosts or ["x"])[0])])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end))
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def create_tls_secret(kubectl, namespace: str, tmp_path, pair: tuple[bytes, bytes] | None = None,
                      name: str = "tls-cert") -> tuple[bytes, bytes]:
    """The TLS Secret as the task makes it: `kubectl create secret tls`."""
    cert, key = pair or certificate()
    (tmp_path / "tls.crt").write_bytes(cert)
    (tmp_path / "tls.key").write_bytes(key)
    done = kubectl("create", "secret", "tls", name, "-n", namespace,
                   f"--cert={tmp_path / 'tls.crt'}", f"--key={tmp_path / 'tls.key'}")
    assert done.ok, done.output
    return cert, key
