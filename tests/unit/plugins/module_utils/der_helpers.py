# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DER certificates by hand, for what cryptography's builder will not write: v1, dates before 1950,
negative serials, malformed and hostile structures. Nobody checks their signatures."""

from __future__ import annotations

import base64


def length(n):
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag, *parts):
    content = b''.join(parts)
    return bytes([tag]) + length(len(content)) + content


def integer(n):
    return tlv(0x02, n.to_bytes(max(1, (n.bit_length() + 8) // 8), 'big', signed=True))


def base128(value):
    out = [value & 0x7f]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7f))
        value >>= 7
    return bytes(reversed(out))


def oid(dotted):
    arcs = [int(arc) for arc in dotted.split('.')]
    return tlv(0x06, b''.join(base128(arc) for arc in [40 * arcs[0] + arcs[1]] + arcs[2:]))


def atv(dotted, tag, raw):
    return tlv(0x30, oid(dotted), tlv(tag, raw))


def rdn(*atvs):
    return tlv(0x31, *atvs)


def name(*rdns):
    return tlv(0x30, *rdns)


CN = '2.5.4.3'
ECDSA_SHA256 = tlv(0x30, oid('1.2.840.10045.4.3.2'))
SPKI = tlv(0x30, tlv(0x30, oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), tlv(0x03, b'\x00\x04' + b'\x11' * 64))
V3 = tlv(0xa0, integer(2))


def utc(text):
    return tlv(0x17, text.encode())


def gen(text):
    return tlv(0x18, text.encode())


def pem(der):
    """``der`` as a PEM block."""
    body = base64.b64encode(der).decode()
    lines = ''.join(body[i:i + 64] + '\n' for i in range(0, len(body), 64))
    return ('-----BEGIN CERTIFICATE-----\n' + lines + '-----END CERTIFICATE-----\n').encode()


def cert(version=V3, serial=integer(5), signature=ECDSA_SHA256, issuer=None, validity=None, subject=None, spki=SPKI,
         tail=b'', outer=None):
    """A certificate as DER (its signature is not valid: nobody here checks it)."""
    issuer = name(rdn(atv(CN, 0x0c, b'issuer'))) if issuer is None else issuer
    subject = name(rdn(atv(CN, 0x0c, b'subject'))) if subject is None else subject
    validity = tlv(0x30, utc('200101000000Z'), utc('300101000000Z')) if validity is None else validity
    tbs = tlv(0x30, version, serial, signature, issuer, validity, subject, spki, tail)
    return tlv(0x30, tbs, ECDSA_SHA256, tlv(0x03, b'\x00' + b'\x22' * 70)) if outer is None else tlv(0x30, tbs, outer)


def extensions(*exts):
    return tlv(0xa3, tlv(0x30, *exts))


def extension(dotted, value, critical=b''):
    return tlv(0x30, oid(dotted), critical, tlv(0x04, value))
