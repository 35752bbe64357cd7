"""TLS certificates as an Ingress serves them: which host names they cover, and when.

Pure functions over PEM text: nothing here reads the cluster. A private key is only ever
compared with a certificate's public key; no function returns or formats any part of it, and
no error raised here quotes the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Certificate:
    """The facts of a certificate that decide whether it serves a host."""

    dns_names: tuple[str, ...]
    """The DNS entries of its subjectAltName extension, as written (may be empty)."""
    common_name: str | None
    """The subject's CN, which clients consult only when there is no DNS subjectAltName."""
    not_before: datetime
    """Start of validity (UTC)."""
    not_after: datetime
    """End of validity (UTC)."""
    public_key: bytes
    """The public key as DER SubjectPublicKeyInfo, to compare with a private key."""

    @property
    def names(self) -> tuple[str, ...]:
        """The names clients match a host against: the DNS SANs, else the CN (RFC 6125)."""
        if self.dns_names:
            return self.dns_names
        return (self.common_name,) if self.common_name else ()

    def covers(self, host: str) -> bool:
        """Whether a client connecting to `host` accepts this certificate's names."""
        return any(host_matches(host, name) for name in self.names)

    def describe_names(self) -> str:
        """'DNS:a, DNS:b' or 'CN=a (no subjectAltName)', for messages."""
        if self.dns_names:
            return ", ".join(f"DNS:{name}" for name in self.dns_names)
        if self.common_name:
            return f"CN={self.common_name} (no subjectAltName)"
        return "no name at all (neither subjectAltName nor CN)"


def load_certificate(pem: str | bytes) -> Certificate:
    """The first (leaf) certificate of a PEM bundle; ValueError if there is none."""
    data = pem.encode("ascii", errors="replace") if isinstance(pem, str) else pem
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError("no PEM certificate (a block starting -----BEGIN CERTIFICATE-----)")
    try:
        leaf = x509.load_pem_x509_certificates(data)[0]
    except ValueError:
        # cryptography's own message may quote bytes of the input: say it in our words.
        raise ValueError("a PEM certificate block that does not parse as X.509") from None
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        dns = tuple(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        dns = ()
    common = [a.value for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    key = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return Certificate(dns_names=dns, common_name=str(common[0]) if common else None,
                       not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc,
                       public_key=key)


def host_matches(host: str, pattern: str) -> bool:
    """Whether `host` matches a certificate name, wildcards as clients treat them.

    Case-insensitive, a trailing dot ignored. A wildcard stands for exactly one whole label
    and only as the leftmost label: `*.example.com` covers `api.example.com`, not
    `example.com` nor `a.b.example.com`; `*` alone or `*.com` cover nothing.
    """
    host, pattern = _canonical(host), _canonical(pattern)
    if not host or not pattern:
        return False
    if "*" not in pattern:
        return host == pattern
    first, _, rest = pattern.partition(".")
    if first != "*" or "*" in rest or rest.count(".") < 1:
        return False
    label, _, host_rest = host.partition(".")
    return bool(label) and host_rest == rest


def _canonical(name: str) -> str:
    return name.strip().rstrip(".").lower()


def expiry_problem(cert: Certificate, now: datetime | None = None) -> str:
    """Empty when `cert` is valid at `now`; else what is wrong with its dates."""
    now = now or datetime.now(timezone.utc)
    if cert.not_after <= now:
        return f"expired on {cert.not_after:%Y-%m-%d %H:%M} UTC"
    if cert.not_before > now:
        return f"not valid before {cert.not_before:%Y-%m-%d %H:%M} UTC"
    return ""


def key_matches(cert: Certificate, key_pem: str | bytes) -> bool | None:
    """Whether the PEM private key belongs to `cert`; None if it is not a readable key."""
    data = key_pem.encode("ascii", errors="replace") if isinstance(key_pem, str) else key_pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
        public = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    except Exception:  # malformed, encrypted or of an unsupported algorithm: unreadable
        return None
    return public == cert.public_key
