# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small, strict reader of the fields of a DER X.509 certificate that expiry checks need.

Private to this collection (used by ``_certs``): no compatibility promise. Standard library
only, no Ansible import. :func:`read_certificate` returns ``serial``, ``issuer``,
``not_before``, ``not_after`` and ``subject`` exactly as ``cryptography`` gives them
(``'%X' % cert.serial_number``, ``Name.rfc4514_string()``, ``not_valid_*_utc``), without
importing it.

A certificate file is untrusted input. The reader accepts only what ``cryptography``'s DER
parser accepts in the parts it reads, so a certificate it reads has the same fields there;
anything else is a :class:`DerError` naming the field and the byte offset, and the caller
decides what to try next:

* every length is definite (no BER ``0x80``), in its shortest form, of at most 4 octets, and
  stays inside the element that holds it; tags are single-octet and the expected ones;
  a SEQUENCE holds exactly its fields, nothing after them; nothing follows the certificate;
* ``[0] EXPLICIT`` version, when present, is v3 (an explicit v1 is not DER, and
  ``cryptography`` refuses v2 and unknown versions); INTEGERs are minimal; OIDs are minimal
  base-128 arcs below 2**128, at most 63 octets;
* names: RDNs non-empty, their attributes in DER (sorted) order and not repeated; values of the
  string types ``cryptography`` knows, decoded as it does (UTF-8 for UTF8String, IA5String,
  TeletexString, NumericString, VisibleString, OCTET STRING, UTCTime and GeneralizedTime values;
  PrintableString restricted to its alphabet; BMPString UTF-16-BE; UniversalString UTF-32-BE;
  a BIT STRING only as ``x500UniqueIdentifier``, shown as ``#`` and its hex octets);
* times: UTCTime ``YYMMDDHHMMSSZ`` (``YY`` >= 50 is 19YY, else 20YY) or GeneralizedTime
  ``YYYYMMDDHHMMSSZ`` (no fractions of a second, like ``cryptography``), a real calendar date;
* the public key, the signature and the extensions are checked only for their shape (an
  AlgorithmIdentifier is an OID and at most one parameter element, a BIT STRING's unused bits
  are 0 to 7 and zero, an extension is an OID, an optional TRUE and an OCTET STRING); their
  contents are not read.

The structure is fixed, so the reader never recurses: its depth is bounded by the
certificate's own (six levels), and each byte is looked at a bounded number of times, so no
input makes it run long.

The attributes of a multi-valued RDN are shown in their DER order, as current ``cryptography``
shows them. Older releases (Debian 12's 38) put them in the order of a Python set, which
changes from one process to the next, and escaped a value of a single space with two
backslashes instead of one.
What they accept and the reader refuses (a PrintableString with ``*``, an attribute repeated
in an RDN) ``_certs`` gives to the ``cryptography`` installed, as before.
"""

from __future__ import annotations

from datetime import datetime, timezone

SEQUENCE = 0x30
SET = 0x31

#: Short attribute names of ``cryptography``'s default RFC 4514 table; any other OID is shown dotted.
SHORT_NAMES = {
    '2.5.4.3': 'CN', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C',
    '2.5.4.9': 'STREET', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
}
X500_UNIQUE_IDENTIFIER = '2.5.4.45'
MAX_OID_OCTETS = 63
MAX_ARC = 2 ** 128

# attribute value tags whose content cryptography decodes as UTF-8: OCTET STRING, UTF8String,
# NumericString, TeletexString (T61String), IA5String, UTCTime, GeneralizedTime, VisibleString
_UTF8_VALUE_TAGS = frozenset((0x04, 0x0c, 0x12, 0x14, 0x16, 0x17, 0x18, 0x1a))
_PRINTABLE = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 \'()+,-./:=?')
_TAG_NAMES = {
    0x01: 'BOOLEAN', 0x02: 'INTEGER', 0x03: 'BIT STRING', 0x04: 'OCTET STRING', 0x05: 'NULL', 0x06: 'OBJECT IDENTIFIER',
    0x0c: 'UTF8String', 0x12: 'NumericString', 0x13: 'PrintableString', 0x14: 'TeletexString', 0x16: 'IA5String',
    0x17: 'UTCTime', 0x18: 'GeneralizedTime', 0x1a: 'VisibleString', 0x1c: 'UniversalString', 0x1e: 'BMPString',
    SEQUENCE: 'SEQUENCE', SET: 'SET', 0xa0: '[0]', 0xa3: '[3]', 0x81: '[1]', 0x82: '[2]',
}


class DerError(Exception):
    """What the reader refuses: ``message`` says what and where, ``offset`` is the byte it is about."""

    def __init__(self, offset, message):
        super().__init__('%s (byte %d)' % (message, offset))
        self.offset = offset
        self.message = message


def _tag_name(tag):
    return _TAG_NAMES.get(tag, 'tag 0x%02x' % tag)


def _bytes(count):
    return '1 byte' if count == 1 else '%d bytes' % count


def _show(raw, limit=40):
    """A value for a message: ASCII with escapes, cut at ``limit`` characters."""
    text = raw[:limit].decode('ascii', 'backslashreplace')
    return repr(text + ('...' if len(raw) > limit else ''))


def _header(data, pos, end, what):
    """``(tag, content start, content end)`` of the element at ``pos``, which must end by ``end``."""
    if end - pos < 2:
        raise DerError(pos, '%s: missing, the data ends here' % what if pos == end else '%s: truncated, 1 byte left' % what)
    tag = data[pos]
    if tag & 0x1f == 0x1f:
        raise DerError(pos, '%s: multi-octet tag (not used in certificates)' % what)
    first = data[pos + 1]
    start = pos + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError(pos + 1, '%s: indefinite length (BER, not DER)' % what)
    else:
        count = first & 0x7f
        if count > 4:
            raise DerError(pos + 1, '%s: length of %d octets (at most 4)' % (what, count))
        if end - start < count:
            raise DerError(pos + 1, '%s: truncated inside the length octets' % what)
        length = int.from_bytes(data[start:start + count], 'big')
        if data[start] == 0 or length < 0x80:
            raise DerError(pos + 1, '%s: length %d not in its shortest form (not DER)' % (what, length))
        start += count
    if length > end - start:
        raise DerError(pos, '%s: %s of %s runs past the end of what holds it (%s left)'
                       % (what, _tag_name(tag), _bytes(length), _bytes(end - start)))
    return tag, start, start + length


def _expect(data, pos, end, tag, what):
    """``(content start, content end)`` of the element at ``pos``, which must have ``tag``."""
    found, start, stop = _header(data, pos, end, what)
    if found != tag:
        raise DerError(pos, '%s: expected %s, found %s' % (what, _tag_name(tag), _tag_name(found)))
    return start, stop


def _done(pos, end, what):
    if pos != end:
        raise DerError(pos, '%s: unexpected %s after its last field' % (what, _bytes(end - pos)))


def _integer(data, start, stop, what):
    if start == stop:
        raise DerError(start, '%s: empty INTEGER' % what)
    if stop - start > 1 and ((data[start] == 0 and data[start + 1] < 0x80) or (data[start] == 0xff and data[start + 1] >= 0x80)):
        raise DerError(start, '%s: INTEGER not in its shortest form (not DER)' % what)
    return int.from_bytes(data[start:stop], 'big', signed=True)


def _oid(data, start, stop, what):
    """Dotted string of the OBJECT IDENTIFIER content ``data[start:stop]``."""
    if start == stop:
        raise DerError(start, '%s: empty OBJECT IDENTIFIER' % what)
    if stop - start > MAX_OID_OCTETS:
        raise DerError(start, '%s: OBJECT IDENTIFIER of %d octets (at most %d)' % (what, stop - start, MAX_OID_OCTETS))
    arcs = []
    value = 0
    fresh = True
    for pos in range(start, stop):
        byte = data[pos]
        if fresh and byte == 0x80:
            raise DerError(pos, '%s: OBJECT IDENTIFIER arc not in its shortest form' % what)
        value = (value << 7) | (byte & 0x7f)
        fresh = byte < 0x80
        if fresh:
            if value >= MAX_ARC:
                raise DerError(pos, '%s: OBJECT IDENTIFIER arc of more than 128 bits' % what)
            arcs.append(value)
            value = 0
    if not fresh:
        raise DerError(stop - 1, '%s: OBJECT IDENTIFIER ends inside an arc' % what)
    first = arcs[0]
    head = '%d.%d' % divmod(first, 40) if first < 80 else '2.%d' % (first - 80)
    return head + ''.join('.%d' % arc for arc in arcs[1:])


def _bit_string(data, pos, end, what):
    """Check the BIT STRING at ``pos`` (as cryptography does); return where it ends."""
    start, stop = _expect(data, pos, end, 0x03, what)
    _bit_string_content(data, start, stop, what)
    return stop


def _bit_string_content(data, start, stop, what):
    if start == stop:
        raise DerError(start, '%s: empty BIT STRING (no unused-bits octet)' % what)
    unused = data[start]
    if unused > 7 or (unused and (stop - start == 1 or data[stop - 1] & ((1 << unused) - 1))):
        raise DerError(start, '%s: BIT STRING with invalid unused bits' % what)


def _algorithm(data, pos, end, what):
    """Check the AlgorithmIdentifier at ``pos`` (an OID and at most one parameter element); return where it ends."""
    start, stop = _expect(data, pos, end, SEQUENCE, what)
    oid_start, oid_stop = _expect(data, start, stop, 0x06, what)
    _oid(data, oid_start, oid_stop, what)
    if oid_stop < stop:
        dummy, dummy, params_stop = _header(data, oid_stop, stop, what + ' parameters')
        _done(params_stop, stop, what)
    return stop


def _time(data, pos, end, what):
    tag, start, stop = _header(data, pos, end, what)
    text = data[start:stop]
    if tag == 0x17:
        if len(text) != 13 or text[12] != 0x5a or not text[:12].isdigit():
            raise DerError(pos, '%s: UTCTime %s is not YYMMDDHHMMSSZ' % (what, _show(text)))
        year = int(text[:2])
        year += 1900 if year >= 50 else 2000
        rest = text[2:12]
    elif tag == 0x18:
        if len(text) != 15 or text[14] != 0x5a or not text[:14].isdigit():
            raise DerError(pos, '%s: GeneralizedTime %s is not YYYYMMDDHHMMSSZ' % (what, _show(text)))
        year = int(text[:4])
        rest = text[4:14]
    else:
        raise DerError(pos, '%s: expected UTCTime or GeneralizedTime, found %s' % (what, _tag_name(tag)))
    try:
        return datetime(year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]), int(rest[8:10]),
                        tzinfo=timezone.utc), stop
    except ValueError as exc:
        raise DerError(pos, '%s: %s is not a valid time: %s' % (what, _show(text), exc))


def _escape(value):
    """RFC 4514 escaping of an attribute value, exactly as cryptography's ``_escape_dn_value``."""
    if not value:
        return ''
    if isinstance(value, bytes):
        return '#' + value.hex()
    value = (value.replace('\\', '\\\\').replace('"', '\\"').replace('+', '\\+').replace(',', '\\,')
             .replace(';', '\\;').replace('<', '\\<').replace('>', '\\>').replace('\0', '\\00'))
    if value[0] == '#' or (value[0] == ' ' and len(value) > 1):
        value = '\\' + value
    if value[-1] == ' ':
        value = value[:-1] + '\\ '
    return value


def _attribute_value(data, pos, end, oid, what):
    tag, start, stop = _header(data, pos, end, what)
    raw = data[start:stop]
    try:
        if tag in _UTF8_VALUE_TAGS:
            return raw.decode('utf-8'), stop
        if tag == 0x13:
            if not _PRINTABLE.issuperset(raw):
                raise DerError(start, '%s: PrintableString %s has characters outside its alphabet' % (what, _show(raw)))
            return raw.decode('ascii'), stop
        if tag == 0x1e:
            return raw.decode('utf-16-be'), stop
        if tag == 0x1c:
            return raw.decode('utf-32-be'), stop
    except UnicodeDecodeError as exc:
        raise DerError(start, '%s: %s value is not valid: %s' % (what, _tag_name(tag), exc.reason))
    if tag == 0x03 and oid == X500_UNIQUE_IDENTIFIER:
        return bytes(raw), stop
    raise DerError(pos, '%s: %s as the value of %s' % (what, _tag_name(tag), oid))


def _name(data, pos, end, what):
    """RFC 4514 string of the Name at ``pos`` (as cryptography's ``rfc4514_string()``) and where it ends."""
    start, stop = _expect(data, pos, end, SEQUENCE, what)
    rdns = []
    while start < stop:
        rdn_start, rdn_stop = _expect(data, start, stop, SET, what)
        if rdn_start == rdn_stop:
            raise DerError(start, '%s: empty RDN' % what)
        attributes = []
        seen = set()
        previous = None
        while rdn_start < rdn_stop:
            atv_start, atv_stop = _expect(data, rdn_start, rdn_stop, SEQUENCE, what)
            encoding = data[rdn_start:atv_stop]
            if previous is not None and encoding <= previous:
                raise DerError(rdn_start, '%s: attributes of a multi-valued RDN not in DER order, or repeated' % what)
            previous = encoding
            oid_start, oid_stop = _expect(data, atv_start, atv_stop, 0x06, what)
            oid = _oid(data, oid_start, oid_stop, what)
            value, value_stop = _attribute_value(data, oid_stop, atv_stop, oid, what)
            _done(value_stop, atv_stop, what)
            if (oid, value) in seen:
                raise DerError(rdn_start, '%s: repeated attribute %s in an RDN' % (what, oid))
            seen.add((oid, value))
            attributes.append((oid, value))
            rdn_start = atv_stop
        rdns.append('+'.join('%s=%s' % (SHORT_NAMES.get(oid, oid), _escape(value)) for oid, value in attributes))
        start = rdn_stop
    return ','.join(reversed(rdns)), stop


def _extensions(data, pos, end):
    """Check the ``[3]`` extensions at ``pos``: a SEQUENCE of (OID, optional TRUE, OCTET STRING)."""
    what = 'extensions'
    start, stop = _expect(data, pos, end, 0xa3, what)
    seq_start, seq_stop = _expect(data, start, stop, SEQUENCE, what)
    _done(seq_stop, stop, what)
    while seq_start < seq_stop:
        ext_start, ext_stop = _expect(data, seq_start, seq_stop, SEQUENCE, what)
        oid_start, oid_stop = _expect(data, ext_start, ext_stop, 0x06, what)
        _oid(data, oid_start, oid_stop, what)
        tag, value_start, value_stop = _header(data, oid_stop, ext_stop, what)
        if tag == 0x01:
            if data[value_start:value_stop] != b'\xff':
                raise DerError(oid_stop, '%s: critical must be TRUE when present (DER)' % what)
            tag, value_start, value_stop = _header(data, value_stop, ext_stop, what)
        if tag != 0x04:
            raise DerError(value_start, '%s: expected OCTET STRING, found %s' % (what, _tag_name(tag)))
        _done(value_stop, ext_stop, what)
        seq_start = ext_stop
    return stop


def read_certificate(der):
    """``dict(serial, issuer, not_before, not_after, subject)`` of a DER certificate; :class:`DerError` if refused."""
    data = der if isinstance(der, bytes) else bytes(der)
    end = len(data)
    start, cert_end = _expect(data, 0, end, SEQUENCE, 'certificate')
    if cert_end != end:
        raise DerError(cert_end, '%s after the certificate' % _bytes(end - cert_end))
    pos, tbs_end = _expect(data, start, cert_end, SEQUENCE, 'tbsCertificate')
    if pos < tbs_end and data[pos] == 0xa0:
        dummy, dummy, stop = _header(data, pos, tbs_end, 'version')
        if data[pos:stop] != b'\xa0\x03\x02\x01\x02':
            raise DerError(pos, 'version: only an explicit v3 is DER and known (v1 is left out, v2 is refused)')
        pos = stop
    start, stop = _expect(data, pos, tbs_end, 0x02, 'serialNumber')
    serial = _integer(data, start, stop, 'serialNumber')
    pos = _algorithm(data, stop, tbs_end, 'signature')
    issuer, pos = _name(data, pos, tbs_end, 'issuer')
    start, stop = _expect(data, pos, tbs_end, SEQUENCE, 'validity')
    not_before, start = _time(data, start, stop, 'notBefore')
    not_after, start = _time(data, start, stop, 'notAfter')
    _done(start, stop, 'validity')
    subject, pos = _name(data, stop, tbs_end, 'subject')
    start, stop = _expect(data, pos, tbs_end, SEQUENCE, 'subjectPublicKeyInfo')
    _done(_bit_string(data, _algorithm(data, start, stop, 'subjectPublicKeyInfo algorithm'), stop, 'subjectPublicKey'),
          stop, 'subjectPublicKeyInfo')
    pos = stop
    for tag, what in ((0x81, 'issuerUniqueID'), (0x82, 'subjectUniqueID')):
        if pos < tbs_end and data[pos] == tag:
            start, stop = _expect(data, pos, tbs_end, tag, what)
            _bit_string_content(data, start, stop, what)
            pos = stop
    if pos < tbs_end and data[pos] == 0xa3:
        pos = _extensions(data, pos, tbs_end)
    if pos != tbs_end:
        raise DerError(pos, 'tbsCertificate: unexpected %s after its last field' % _tag_name(data[pos]))
    after = _algorithm(data, tbs_end, cert_end, 'signatureAlgorithm')
    _done(_bit_string(data, after, cert_end, 'signature'), cert_end, 'certificate')
    return {'serial': '%X' % serial, 'issuer': issuer, 'not_before': not_before, 'not_after': not_after, 'subject': subject}
