# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate expiry from PEM/DER files and from TLS endpoints.

Private to this collection (shared by health, maintenance and security code): no
compatibility promise. Plain functions, no Ansible import:

* :func:`read_certificate_file` -> :class:`CertificateInfo` of the first (leaf) certificate of a file;
* :func:`endpoint_certificate` -> :class:`CertificateInfo` of the certificate a TLS server presents
  (read without verification: the point is to see its dates, even when it has expired);
* :func:`parse_certificate` for DER bytes already in hand; :func:`pem_to_der_list` to split PEM bundles;
* :func:`parse_endpoint` for ``host:port`` / ``[v6]:port`` strings;
* :func:`expiry_severity` for ``ok`` / ``warning`` / ``critical`` from days left.

Parsing uses the collection's own DER reader (``_der``, standard library only): the dates,
subject, issuer and serial exactly as ``cryptography`` gives them, without importing it or
starting a process. A certificate the reader refuses (malformed, or a structure it does not
take) goes to ``cryptography`` when it is importable, else to ``openssl x509`` through the
``run_command`` callable (``run_command(args, data) -> (rc, stdout, stderr)``).
Every failure is a :class:`CertificateError` with a message naming the file or endpoint.
``ssl`` and ``socket`` are imported only to fetch an endpoint's certificate.
"""

from __future__ import annotations

import base64
import re

from collections import namedtuple
from datetime import datetime, timezone

from ansible_collections.cloudos.ops.plugins.module_utils._common import rfc3339, utcnow
from ansible_collections.cloudos.ops.plugins.module_utils._der import DerError, read_certificate

_PEM_BEGIN = re.compile(rb'-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----')
_PEM_END = re.compile(rb'-----END (?:X509 |TRUSTED )?CERTIFICATE-----')


class CertificateError(Exception):
    """A certificate that cannot be read; ``source`` names the file or endpoint."""

    def __init__(self, message, source=None):
        super().__init__(message)
        self.message = message
        self.source = source


class CertificateInfo(namedtuple('CertificateInfo', 'not_after not_before subject issuer serial source',
                                 defaults=(None, '', '', '', ''))):
    """What matters about one certificate for expiry checks (aware UTC times)."""

    __slots__ = ()

    def days_left(self, now=None):
        """Days (float, negative once expired) until ``not_after``."""
        now = now or utcnow()
        return (self.not_after - now).total_seconds() / 86400.0

    def expired(self, now=None):
        return self.days_left(now) < 0

    def as_dict(self, now=None):
        return {
            'source': self.source, 'subject': self.subject, 'issuer': self.issuer, 'serial': self.serial,
            'not_before': rfc3339(self.not_before), 'not_after': rfc3339(self.not_after),
            'days_left': round(self.days_left(now), 1),
        }

    def __repr__(self):
        return 'CertificateInfo(%r, not_after=%s)' % (self.source, rfc3339(self.not_after))


def pem_to_der_list(data):
    """DER bytes of every certificate in a PEM bundle (bytes or str), in file order."""
    if isinstance(data, str):
        data = data.encode('ascii', 'replace')
    out = []
    pos = 0
    while True:  # each byte looked at once: a file of BEGIN lines without an END is not quadratic
        begin = _PEM_BEGIN.search(data, pos)
        end = _PEM_END.search(data, begin.end() + 1) if begin else None  # a body of at least one byte
        if end is None:
            return out
        body = b''.join(data[begin.end():end.start()].split())
        pos = end.end()
        try:
            out.append(base64.b64decode(body, validate=True))
        except (ValueError, TypeError):
            continue


def expiry_severity(days_left, warning_days=30, critical_days=7):
    """``critical`` when expired or fewer than ``critical_days`` left, ``warning`` under ``warning_days``."""
    if days_left < 0 or days_left < critical_days:
        return 'critical'
    if days_left < warning_days:
        return 'warning'
    return 'ok'


def _utc(moment):
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _parse_with_cryptography(der, source):
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    try:
        cert = x509.load_der_x509_certificate(der)
    except TypeError:  # cryptography < 3.1 wants a backend
        from cryptography.hazmat.backends import default_backend  # pylint: disable=import-outside-toplevel
        cert = x509.load_der_x509_certificate(der, default_backend())
    not_after = getattr(cert, 'not_valid_after_utc', None) or _utc(cert.not_valid_after)
    not_before = getattr(cert, 'not_valid_before_utc', None) or _utc(cert.not_valid_before)
    return CertificateInfo(not_after=not_after, not_before=not_before, subject=cert.subject.rfc4514_string(),
                           issuer=cert.issuer.rfc4514_string(), serial='%X' % cert.serial_number, source=source)


def parse_openssl_date(text):
    """``Nov 26 06:52:46 2026 GMT`` (openssl's format) to an aware UTC datetime."""
    parts = text.split()
    if len(parts) >= 4:
        return datetime.strptime(' '.join(parts[:4]), '%b %d %H:%M:%S %Y').replace(tzinfo=timezone.utc)
    raise ValueError('unexpected openssl date %r' % text)


def parse_openssl_output(text, source=''):
    """Parse ``openssl x509 -noout -enddate -startdate -subject -issuer -serial`` output."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            fields[key.strip().lower()] = value.strip()
    if 'notafter' not in fields:
        raise ValueError('openssl printed no notAfter')
    return CertificateInfo(not_after=parse_openssl_date(fields['notafter']),
                           not_before=parse_openssl_date(fields['notbefore']) if 'notbefore' in fields else None,
                           subject=fields.get('subject', ''), issuer=fields.get('issuer', ''),
                           serial=fields.get('serial', ''), source=source)


def _parse_with_openssl(der, source, run_command):
    rc, out, err = run_command(['openssl', 'x509', '-noout', '-inform', 'DER', '-enddate', '-startdate',
                                '-subject', '-issuer', '-serial', '-nameopt', 'RFC2253'], der)
    if rc != 0:
        raise CertificateError('%s: openssl cannot read the certificate (rc %s): %s' % (source, rc, (err or out).strip()),
                               source)
    return parse_openssl_output(out, source)


def parse_certificate(der, source='', run_command=None):
    """:class:`CertificateInfo` from DER bytes (the DER reader, else ``cryptography``, else ``openssl``)."""
    try:
        return CertificateInfo(source=source, **read_certificate(der))
    except DerError as exc:
        refused = str(exc)
    except Exception as exc:  # pylint: disable=broad-except  # a reader bug: the other parsers still decide
        refused = '%s: %s' % (type(exc).__name__, exc)
    try:
        import cryptography  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
        have_cryptography = True
    except ImportError:
        have_cryptography = False
    if have_cryptography:
        try:
            return _parse_with_cryptography(der, source)
        except Exception:  # pylint: disable=broad-except
            raise CertificateError('%s: not a readable X.509 certificate: %s' % (source, refused), source)
    if run_command is None:
        raise CertificateError('%s: cannot read the certificate (%s): the Python cryptography library is not installed '
                               'and no command runner was given to call openssl' % (source, refused), source)
    try:
        return _parse_with_openssl(der, source, run_command)
    except CertificateError as exc:
        raise CertificateError('%s; the DER reader: %s' % (exc.message, refused), source)
    except Exception as exc:  # pylint: disable=broad-except
        raise CertificateError('%s: not a readable X.509 certificate: %s; openssl: %s' % (source, refused, exc), source)


def read_certificate_file(path, run_command=None, read=None):
    """:class:`CertificateInfo` of the first certificate in ``path`` (PEM, or DER).

    ``read`` (path -> bytes) lets callers route file access through their own adapter.
    """
    try:
        data = read(path) if read else _read_bytes(path)
    except (IOError, OSError) as exc:
        raise CertificateError('%s: cannot read: %s' % (path, exc), path)
    ders = pem_to_der_list(data)
    if not ders:
        if data[:1] == b'\x30':  # DER starts with an ASN.1 SEQUENCE
            ders = [data]
        else:
            raise CertificateError('%s: contains no PEM certificate (no BEGIN CERTIFICATE block)' % path, path)
    return parse_certificate(ders[0], path, run_command)


def _read_bytes(path):
    with open(path, 'rb') as handle:
        return handle.read()


def parse_endpoint(text, default_port=443):
    """``(host, port)`` from ``host``, ``host:port``, ``[v6]:port`` or ``https://host:port/...``."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError('endpoint must be host:port, got %r' % (text,))
    value = text.strip()
    if '://' in value:
        value = value.split('://', 1)[1].split('/', 1)[0]
    if value.startswith('['):
        host, sep, rest = value[1:].partition(']')
        if not sep:
            raise ValueError('endpoint %r: unclosed [' % text)
        port = rest[1:] if rest.startswith(':') else ''
    elif value.count(':') == 1:
        host, port = value.split(':')
    else:
        host, port = value, ''
    if not host:
        raise ValueError('endpoint %r has no host' % text)
    try:
        port = int(port) if port else default_port
    except ValueError:
        raise ValueError('endpoint %r: port %r is not a number' % (text, port))
    if not 0 < port < 65536:
        raise ValueError('endpoint %r: port %d out of range' % (text, port))
    return host, port


def fetch_endpoint_der(host, port, timeout=10.0, server_name=None):
    """DER bytes of the certificate a TLS server presents (no verification: dates only)."""
    import socket  # pylint: disable=import-outside-toplevel
    import ssl  # pylint: disable=import-outside-toplevel
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    source = '%s:%s' % (host, port)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=server_name or host) as tls:
                der = tls.getpeercert(binary_form=True)
    except socket.timeout:
        raise CertificateError('%s: no TLS answer within %ss' % (source, timeout), source)
    except ssl.SSLError as exc:
        raise CertificateError('%s: TLS handshake failed: %s' % (source, exc), source)
    except OSError as exc:
        raise CertificateError('%s: cannot connect: %s' % (source, exc), source)
    if not der:
        raise CertificateError('%s: the server presented no certificate' % source, source)
    return der


def endpoint_certificate(endpoint, timeout=10.0, server_name=None, run_command=None):
    """:class:`CertificateInfo` of the certificate served at ``endpoint`` (``host:port``)."""
    try:
        host, port = parse_endpoint(endpoint)
    except ValueError as exc:
        raise CertificateError(str(exc), endpoint)
    der = fetch_endpoint_der(host, port, timeout=timeout, server_name=server_name)
    return parse_certificate(der, '%s:%s' % (host, port), run_command)
