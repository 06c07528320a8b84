# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DER reader (``_der``) against ``cryptography``: the same serial, issuer, subject and dates on
the system CA store, on certificates generated with cryptography's builder and on hand-built DER;
and hostile input (truncated, overlong, indefinite, nested, random, mutated), which it refuses with
a :class:`_der.DerError` (``_certs``: a ``CertificateError`` naming the file), quickly."""

from __future__ import annotations

import array
import collections
import datetime as dt
import os
import random
import sys
import time
import warnings

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID, ObjectIdentifier

from ansible_collections.cloudos.ops.plugins.module_utils import _certs, _der

from der_helpers import CN, ECDSA_SHA256, SPKI, V3, atv, base128, cert, extension, extensions, gen, integer, name, oid, rdn, tlv, utc

CA_STORE = '/etc/ssl/certs/ca-certificates.crt'
UTC = dt.timezone.utc
KEY = ec.generate_private_key(ec.SECP256R1())


# --- what each side reads -------------------------------------------------------------------

def by_cryptography(der):
    """The fields as ``_certs._parse_with_cryptography`` gives them, or ``None`` if cryptography refuses."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # negative serials, over-long country names
            info = _certs._parse_with_cryptography(der, 'x')
    except Exception:  # pylint: disable=broad-except
        return None
    return {'serial': info.serial, 'issuer': info.issuer, 'subject': info.subject,
            'not_before': info.not_before, 'not_after': info.not_after}


def by_reader(der):
    try:
        return _der.read_certificate(der)
    except _der.DerError:
        return None


def refusal(der):
    with pytest.raises(_der.DerError) as err:
        _der.read_certificate(der)
    return str(err.value)


def build(subject=None, issuer=None, not_before=dt.datetime(2020, 1, 1, tzinfo=UTC),
          not_after=dt.datetime(2030, 1, 1, tzinfo=UTC), serial=5):
    """DER of a certificate made and signed by cryptography's builder."""
    subject = subject if subject is not None else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'cloudos')])
    built = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer if issuer is not None else subject)
             .public_key(KEY.public_key()).serial_number(serial).not_valid_before(not_before).not_valid_after(not_after)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .sign(KEY, hashes.SHA256()))
    return built.public_bytes(serialization.Encoding.DER)


def assert_same(der):
    expected = by_cryptography(der)
    assert expected is not None, 'cryptography refuses the test certificate'
    assert _der.read_certificate(der) == expected
    assert _certs.parse_certificate(der, 'x') == _certs.CertificateInfo(source='x', **expected)
    return expected


# --- the system CA store ----------------------------------------------------------------------

def test_every_certificate_of_the_system_ca_store_reads_as_cryptography_reads_it():
    # Fails, never skips: Debian's ca-certificates (make setup-system) writes this file.
    assert os.path.exists(CA_STORE), 'no system CA store at %s: install ca-certificates' % CA_STORE
    with open(CA_STORE, 'rb') as handle:
        ders = _certs.pem_to_der_list(handle.read())
    assert len(ders) > 100
    differ = [(by_cryptography(der), by_reader(der)) for der in ders if by_reader(der) != by_cryptography(der)]
    assert differ == []
    assert all(by_cryptography(der) is not None for der in ders)


# --- certificates made by cryptography's builder ---------------------------------------------

def attr(oid_, value, kind=None):
    return x509.NameAttribute(oid_, value, _type=kind) if kind else x509.NameAttribute(oid_, value)


RDN = x509.RelativeDistinguishedName
UNKNOWN = ObjectIdentifier('1.2.3.4.5')

NAMES = {
    'multi-valued RDN': (x509.Name([RDN([attr(NameOID.COUNTRY_NAME, 'DE')]),
                                    RDN([attr(NameOID.ORGANIZATIONAL_UNIT_NAME, 'ops'), attr(NameOID.COMMON_NAME, 'web'),
                                         attr(NameOID.ORGANIZATION_NAME, 'cloudos')])]),
                         'CN=web+OU=ops+O=cloudos,C=DE'),  # DER order: by encoding (the shorter first)
    'escaped characters': (x509.Name([attr(NameOID.COMMON_NAME, 'a\\b"c+d,e;f<g>h\0i=j#k')]),
                           'CN=a\\\\b\\"c\\+d\\,e\\;f\\<g\\>h\\00i=j#k'),
    'leading #': (x509.Name([attr(NameOID.COMMON_NAME, '#hash')]), 'CN=\\#hash'),
    'lone #': (x509.Name([attr(NameOID.COMMON_NAME, '#')]), 'CN=\\#'),
    'leading and trailing space': (x509.Name([attr(NameOID.COMMON_NAME, ' both ')]), 'CN=\\ both\\ '),
    'one space': (x509.Name([attr(NameOID.COMMON_NAME, ' ')]), 'CN=\\ '),
    'two spaces': (x509.Name([attr(NameOID.COMMON_NAME, '  ')]), 'CN=\\ \\ '),
    'space then #': (x509.Name([attr(NameOID.ORGANIZATION_NAME, ' #x')]), 'O=\\ #x'),
    'empty value': (x509.Name([attr(NameOID.ORGANIZATIONAL_UNIT_NAME, '')]), 'OU='),
    'every short name': (x509.Name([attr(NameOID.COUNTRY_NAME, 'DE'), attr(NameOID.STATE_OR_PROVINCE_NAME, 'Berlin'),
                                    attr(NameOID.LOCALITY_NAME, 'Berlin'), attr(NameOID.STREET_ADDRESS, 'Main St 1'),
                                    attr(NameOID.ORGANIZATION_NAME, 'cloudos'), attr(NameOID.ORGANIZATIONAL_UNIT_NAME, 'ops'),
                                    attr(NameOID.DOMAIN_COMPONENT, 'org'), attr(NameOID.DOMAIN_COMPONENT, 'example'),
                                    attr(NameOID.USER_ID, 'ops1'), attr(NameOID.COMMON_NAME, 'web')]),
                         'CN=web,UID=ops1,DC=example,DC=org,OU=ops,O=cloudos,STREET=Main St 1,L=Berlin,ST=Berlin,C=DE'),
    'dotted OIDs': (x509.Name([attr(NameOID.EMAIL_ADDRESS, 'ops@example.org'), attr(NameOID.SERIAL_NUMBER, '42'),
                               attr(NameOID.TITLE, 'admin'), attr(NameOID.GIVEN_NAME, 'Ada'), attr(UNKNOWN, 'x'),
                               attr(ObjectIdentifier('2.999.1'), 'y')]),
                    '2.999.1=y,1.2.3.4.5=x,2.5.4.42=Ada,2.5.4.12=admin,2.5.4.5=42,1.2.840.113549.1.9.1=ops@example.org'),
    'string types': (x509.Name([attr(NameOID.COMMON_NAME, 'utf8', _ASN1Type.UTF8String),
                                attr(NameOID.ORGANIZATION_NAME, "Printable (A-z 0-9 '()+,-./:=?)", _ASN1Type.PrintableString),
                                attr(NameOID.ORGANIZATIONAL_UNIT_NAME, 'bmp', _ASN1Type.BMPString),
                                attr(NameOID.LOCALITY_NAME, 'teletex', _ASN1Type.T61String),
                                attr(NameOID.STATE_OR_PROVINCE_NAME, 'ia5', _ASN1Type.IA5String),
                                attr(NameOID.STREET_ADDRESS, 'visible', _ASN1Type.VisibleString),
                                attr(NameOID.SERIAL_NUMBER, '0123 456', _ASN1Type.NumericString),
                                attr(NameOID.TITLE, 'universal', _ASN1Type.UniversalString),
                                attr(NameOID.GIVEN_NAME, 'octets', _ASN1Type.OctetString),
                                attr(NameOID.SURNAME, 'utc', _ASN1Type.UTCTime),
                                attr(NameOID.PSEUDONYM, 'generalized', _ASN1Type.GeneralizedTime)]),
                     '2.5.4.65=generalized,2.5.4.4=utc,2.5.4.42=octets,2.5.4.12=universal,2.5.4.5=0123 456,'
                     'STREET=visible,ST=ia5,L=teletex,OU=bmp,O=Printable (A-z 0-9 \'()\\+\\,-./:=?),CN=utf8'),
    'non-ASCII': (x509.Name([attr(NameOID.LOCALITY_NAME, 'Zürich'),
                             attr(NameOID.ORGANIZATION_NAME, 'Ελληνικά', _ASN1Type.BMPString),
                             attr(NameOID.ORGANIZATIONAL_UNIT_NAME, 'emoji 😀', _ASN1Type.BMPString),
                             attr(NameOID.COMMON_NAME, '日本 😀', _ASN1Type.UniversalString),
                             attr(NameOID.STATE_OR_PROVINCE_NAME, 'café', _ASN1Type.T61String)]),
                  'ST=café,CN=日本 😀,OU=emoji 😀,O=Ελληνικά,L=Zürich'),
    'x500UniqueIdentifier (BIT STRING)': (x509.Name([attr(NameOID.COMMON_NAME, 'web'),
                                                     attr(NameOID.X500_UNIQUE_IDENTIFIER, b'\x00\xab\xcd', _ASN1Type.BitString)]),
                                          '2.5.4.45=#00abcd,CN=web'),
    'empty name': (x509.Name([]), ''),
}


@pytest.mark.parametrize('case', sorted(NAMES))
def test_names_generated_by_cryptography_read_the_same(case):
    subject, expected = NAMES[case]
    issuer = x509.Name([attr(NameOID.COMMON_NAME, 'issuer, with comma')])
    fields = assert_same(build(subject=subject, issuer=issuer))
    assert fields['subject'] == expected
    assert fields['issuer'] == 'CN=issuer\\, with comma'


@pytest.mark.parametrize('not_before, not_after', [
    (dt.datetime(1950, 1, 1, tzinfo=UTC), dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)),  # UTCTime 50..49
    (dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC), dt.datetime(2050, 1, 1, tzinfo=UTC)),  # GeneralizedTime from 2050
    (dt.datetime(2024, 2, 29, 12, 30, 45, tzinfo=UTC), dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
])
def test_dates_generated_by_cryptography_read_the_same(not_before, not_after):
    fields = assert_same(build(not_before=not_before, not_after=not_after))
    assert (fields['not_before'], fields['not_after']) == (not_before, not_after)


@pytest.mark.parametrize('serial', [1, 0x7f, 0x80, 0xff00, 2 ** 64, 2 ** 159 - 1])
def test_serials_generated_by_cryptography_read_the_same(serial):
    assert assert_same(build(serial=serial))['serial'] == '%X' % serial


# --- hand-built DER that cryptography reads: the reader reads it the same -------------------------

ACCEPTED = {
    'v1 (no version field)': cert(version=b''),
    'v1 with extensions': cert(version=b'', tail=extensions(extension('1.2.3.4', b'x'))),
    'negative serial': cert(serial=integer(-31)),
    'zero serial': cert(serial=integer(0)),
    'serial of 40 octets': cert(serial=integer(2 ** 319 + 12345)),
    'serial of one 0xff octet': cert(serial=tlv(0x02, b'\xff')),
    'GeneralizedTime before 1950': cert(validity=tlv(0x30, gen('19491231235959Z'), gen('00010101000000Z'))),
    'GeneralizedTime before 2050': cert(validity=tlv(0x30, gen('20200101000000Z'), utc('491231235959Z'))),
    'UTCTime 50 is 1950': cert(validity=tlv(0x30, utc('500101000000Z'), utc('991231235959Z'))),
    'not after before not before': cert(validity=tlv(0x30, utc('300101000000Z'), utc('200101000000Z'))),
    'leap day': cert(validity=tlv(0x30, utc('000229000000Z'), gen('24000229000000Z'))),
    'empty subject': cert(subject=name()),
    'unknown signature algorithm with parameters': cert(signature=tlv(0x30, oid('1.2.3.4'), tlv(0x30, integer(1)))),
    'RSA signature algorithm with and without NULL': cert(
        signature=tlv(0x30, oid('1.2.840.113549.1.1.11'), tlv(0x05, b'')),
        outer=tlv(0x30, oid('1.2.840.113549.1.1.11')) + tlv(0x03, b'\x00')),
    'unique identifiers and extensions': cert(tail=tlv(0x81, b'\x00\x01') + tlv(0x82, b'\x04\xf0') + extensions(
        extension('2.5.29.19', b'\x30\x00', tlv(0x01, b'\xff')), extension('1.2.3.4', b''))),
    'empty extensions': cert(tail=extensions()),
    'signature with unused bits': cert(outer=ECDSA_SHA256 + tlv(0x03, b'\x07\x80')),
    'OID arcs: 0.39, 1.0, 2.999, 2**128 - 1': cert(subject=name(
        rdn(atv('0.39.5', 0x0c, b'a')), rdn(atv('1.0', 0x0c, b'b')), rdn(atv('2.999.1', 0x0c, b'c')),
        rdn(atv('1.2.%d' % (2 ** 128 - 1), 0x0c, b'd')))),
    'OID of 63 octets': cert(subject=name(rdn(atv('1.2.' + '.'.join(['1'] * 62), 0x0c, b'a')))),
    'OID of one arc': cert(subject=name(rdn(tlv(0x30, tlv(0x06, b'\x55'), tlv(0x0c, b'a'))))),
    'first OID arc 2**128 - 1': cert(subject=name(rdn(tlv(0x30, tlv(0x06, base128(2 ** 128 - 1)), tlv(0x0c, b'a'))))),
    'every string type and escape': cert(subject=name(
        rdn(atv(CN, 0x13, b"A-Za-z 0-9 '()+,-./:=?")), rdn(atv(CN, 0x16, b'\x00<>;"\\')), rdn(atv(CN, 0x14, 'café'.encode())),
        rdn(atv(CN, 0x1e, '\U0001f600 x'.encode('utf-16-be'))), rdn(atv(CN, 0x1c, ' é '.encode('utf-32-be'))),
        rdn(atv(CN, 0x12, b'ab')), rdn(atv(CN, 0x1a, b'#v')), rdn(atv(CN, 0x04, b'octets')),
        rdn(atv(CN, 0x17, b'not a time')), rdn(atv(CN, 0x18, b'')))),
    'x500UniqueIdentifier with odd unused bits': cert(subject=name(rdn(atv('2.5.4.45', 0x03, b'\x09\xab')),
                                                                   rdn(atv('2.5.4.45', 0x03, b'')))),
    'same attribute in two RDNs': cert(subject=name(rdn(atv(CN, 0x0c, b'a')), rdn(atv(CN, 0x0c, b'a')))),
    'three-valued RDN in DER order': cert(subject=name(rdn(*sorted([atv(CN, 0x0c, b'b'), atv('2.5.4.10', 0x0c, b'a'),
                                                                    atv('2.5.4.11', 0x13, b'c')])))),
    'country of three letters': cert(subject=name(rdn(atv('2.5.4.6', 0x13, b'DEU')))),
}


@pytest.mark.parametrize('case', sorted(ACCEPTED))
def test_hand_built_certificates_cryptography_reads_are_read_the_same(case):
    assert_same(ACCEPTED[case])


def test_hand_built_values_are_what_a_user_reads():
    assert _der.read_certificate(ACCEPTED['negative serial'])['serial'] == '-1F'
    assert _der.read_certificate(ACCEPTED['serial of one 0xff octet'])['serial'] == '-1'
    old = _der.read_certificate(ACCEPTED['GeneralizedTime before 1950'])
    assert old['not_before'] == dt.datetime(1949, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert old['not_after'] == dt.datetime(1, 1, 1, tzinfo=UTC)
    assert _der.read_certificate(ACCEPTED['UTCTime 50 is 1950'])['not_after'] == dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)
    v1 = _der.read_certificate(ACCEPTED['v1 (no version field)'])
    assert (v1['subject'], v1['issuer'], v1['serial']) == ('CN=subject', 'CN=issuer', '5')


# --- hand-built DER that cryptography refuses: so does the reader, saying why ----------------------

def _long(tag, content, octets):
    """An element whose length is written in ``octets`` length octets (not DER when more than needed)."""
    return bytes([tag, 0x80 | octets]) + len(content).to_bytes(octets, 'big') + content


GOOD = cert()
BODY = GOOD[2 + (GOOD[1] & 0x7f if GOOD[1] & 0x80 else 0):]

REFUSED = {
    'trailing data after the certificate': (GOOD + b'\x00', '1 byte after the certificate'),
    'indefinite length': (b'\x30\x80' + BODY + b'\x00\x00', 'indefinite length'),
    'length not in its shortest form': (_long(0x30, BODY, 3), 'shortest form'),
    'length of 5 octets': (_long(0x30, BODY, 5), 'length of 5 octets'),
    'length past the end': (GOOD[:-1], 'runs past the end'),
    'explicit v1': (cert(version=tlv(0xa0, integer(0))), 'version'),
    'v2': (cert(version=tlv(0xa0, integer(1))), 'version'),
    'v4': (cert(version=tlv(0xa0, integer(3))), 'version'),
    'version with trailing data': (cert(version=tlv(0xa0, integer(2), integer(2))), 'version'),
    'serial not minimal': (cert(serial=tlv(0x02, b'\x00\x05')), 'shortest form'),
    'negative serial not minimal': (cert(serial=tlv(0x02, b'\xff\x80')), 'shortest form'),
    'empty serial': (cert(serial=tlv(0x02, b'')), 'empty INTEGER'),
    'serial as OCTET STRING': (cert(serial=tlv(0x04, b'\x05')), 'serialNumber: expected INTEGER'),
    'UTCTime without Z': (cert(validity=tlv(0x30, utc('200101000000'), utc('300101000000Z'))), 'YYMMDDHHMMSSZ'),
    'UTCTime with offset': (cert(validity=tlv(0x30, utc('200101000000+0000'), utc('300101000000Z'))), 'YYMMDDHHMMSSZ'),
    'UTCTime without seconds': (cert(validity=tlv(0x30, utc('2001010000Z'), utc('300101000000Z'))), 'YYMMDDHHMMSSZ'),
    'UTCTime lower-case z': (cert(validity=tlv(0x30, utc('200101000000z'), utc('300101000000Z'))), 'YYMMDDHHMMSSZ'),
    'GeneralizedTime with fractions': (cert(validity=tlv(0x30, gen('20200101000000.5Z'), utc('300101000000Z'))),
                                       'YYYYMMDDHHMMSSZ'),
    'GeneralizedTime year 0': (cert(validity=tlv(0x30, gen('00000101000000Z'), utc('300101000000Z'))), 'not a valid time'),
    'February 30': (cert(validity=tlv(0x30, utc('200230000000Z'), utc('300101000000Z'))), 'not a valid time'),
    'February 29 of 2021': (cert(validity=tlv(0x30, utc('210229000000Z'), utc('300101000000Z'))), 'not a valid time'),
    'hour 24': (cert(validity=tlv(0x30, utc('200101240000Z'), utc('300101000000Z'))), 'not a valid time'),
    'second 60': (cert(validity=tlv(0x30, utc('200101235960Z'), utc('300101000000Z'))), 'not a valid time'),
    'validity as OCTET STRING': (cert(validity=tlv(0x30, tlv(0x04, b'200101000000Z'), utc('300101000000Z'))),
                                 'expected UTCTime or GeneralizedTime'),
    'three times in validity': (cert(validity=tlv(0x30, utc('200101000000Z'), utc('300101000000Z'), utc('300101000000Z'))),
                                'validity: unexpected 15 bytes after its last field'),
    'empty RDN': (cert(subject=name(rdn())), 'empty RDN'),
    'RDN as SEQUENCE': (cert(subject=name(tlv(0x30, atv(CN, 0x0c, b'a')))), 'subject: expected SET'),
    'multi-valued RDN out of DER order': (cert(subject=name(rdn(atv('2.5.4.10', 0x0c, b'a'), atv(CN, 0x0c, b'b')))),
                                          'not in DER order'),
    'repeated attribute': (cert(subject=name(rdn(atv(CN, 0x0c, b'a'), atv(CN, 0x0c, b'a')))), 'not in DER order, or repeated'),
    'same value in two string types': (cert(subject=name(rdn(atv(CN, 0x0c, b'b'), atv(CN, 0x13, b'b')))), 'repeated attribute'),
    'attribute with two values': (cert(subject=name(rdn(tlv(0x30, oid(CN), tlv(0x0c, b'a'), tlv(0x0c, b'a'))))), 'after its last field'),
    'attribute without value': (cert(subject=name(rdn(tlv(0x30, oid(CN))))), 'missing'),
    'PrintableString with *': (cert(subject=name(rdn(atv(CN, 0x13, b'*.example.org')))), 'PrintableString'),
    'PrintableString with @': (cert(subject=name(rdn(atv(CN, 0x13, b'ops@example.org')))), 'PrintableString'),
    'TeletexString in Latin-1': (cert(subject=name(rdn(atv(CN, 0x14, b'caf\xe9')))), 'TeletexString value is not valid'),
    'UTF8String with a surrogate': (cert(subject=name(rdn(atv(CN, 0x0c, b'\xed\xa0\x80')))), 'UTF8String value is not valid'),
    'UTF8String overlong': (cert(subject=name(rdn(atv(CN, 0x0c, b'\xc0\x80')))), 'UTF8String value is not valid'),
    'BMPString of odd length': (cert(subject=name(rdn(atv(CN, 0x1e, b'\x00a\x00')))), 'BMPString value is not valid'),
    'BMPString lone surrogate': (cert(subject=name(rdn(atv(CN, 0x1e, b'\xd8\x00')))), 'BMPString value is not valid'),
    'UniversalString of 2 octets': (cert(subject=name(rdn(atv(CN, 0x1c, b'ab')))), 'UniversalString value is not valid'),
    'UniversalString beyond U+10FFFF': (cert(subject=name(rdn(atv(CN, 0x1c, b'\x00\x11\x00\x00')))),
                                        'UniversalString value is not valid'),
    'BIT STRING as a common name': (cert(subject=name(rdn(atv(CN, 0x03, b'\x00a')))), 'BIT STRING as the value of 2.5.4.3'),
    'GeneralString value': (cert(subject=name(rdn(atv(CN, 0x1b, b'a')))), 'tag 0x1b as the value'),
    'INTEGER value': (cert(subject=name(rdn(atv(CN, 0x02, b'\x01')))), 'INTEGER as the value'),
    'constructed string value': (cert(subject=name(rdn(atv(CN, 0x33, b'')))), 'tag 0x33 as the value'),
    'context-specific value': (cert(subject=name(rdn(atv(CN, 0x80, b'a')))), 'tag 0x80 as the value'),
    'multi-octet tag value': (cert(subject=name(rdn(tlv(0x30, oid(CN), b'\x1f\x81\x00\x01a')))), 'multi-octet tag'),
    'OID arc not minimal': (cert(subject=name(rdn(tlv(0x30, tlv(0x06, b'\x55\x04\x80\x03'), tlv(0x0c, b'a'))))), 'shortest form'),
    'OID first arc not minimal': (cert(subject=name(rdn(tlv(0x30, tlv(0x06, b'\x80\x01'), tlv(0x0c, b'a'))))), 'shortest form'),
    'OID ends inside an arc': (cert(subject=name(rdn(tlv(0x30, tlv(0x06, b'\x55\x84'), tlv(0x0c, b'a'))))), 'ends inside an arc'),
    'empty OID': (cert(subject=name(rdn(tlv(0x30, tlv(0x06, b''), tlv(0x0c, b'a'))))), 'empty OBJECT IDENTIFIER'),
    'OID of 64 octets': (cert(subject=name(rdn(atv('1.2.' + '.'.join(['1'] * 63), 0x0c, b'a')))), '64 octets'),
    'OID arc of 2**128': (cert(subject=name(rdn(atv('1.2.%d' % 2 ** 128, 0x0c, b'a')))), 'more than 128 bits'),
    'first OID arc 2**128': (cert(subject=name(rdn(tlv(0x30, tlv(0x06, base128(2 ** 128)), tlv(0x0c, b'a'))))),
                             'more than 128 bits'),
    'no subject': (tlv(0x30, tlv(0x30, V3, integer(1), ECDSA_SHA256, name(), tlv(0x30, utc('200101000000Z'), utc('300101000000Z'))),
                       ECDSA_SHA256, tlv(0x03, b'\x00')), 'subject: missing'),
    'algorithm with two parameters': (cert(signature=tlv(0x30, oid('1.2.3.4'), integer(1), integer(2))), 'after its last field'),
    'algorithm without OID': (cert(signature=tlv(0x30, integer(1))), 'expected OBJECT IDENTIFIER'),
    'public key with unused bits 8': (cert(spki=tlv(0x30, SPKI[2:2 + 21], tlv(0x03, b'\x08\x04'))), 'invalid unused bits'),
    'public key with padding bits set': (cert(spki=tlv(0x30, SPKI[2:2 + 21], tlv(0x03, b'\x01\x05'))), 'invalid unused bits'),
    'public key without unused-bits octet': (cert(spki=tlv(0x30, SPKI[2:2 + 21], tlv(0x03, b''))), 'empty BIT STRING'),
    'public key with extra field': (cert(spki=tlv(0x30, SPKI[2:2 + 21], tlv(0x03, b'\x00'), integer(1))), 'after its last field'),
    'extension marked critical FALSE': (cert(tail=extensions(extension('1.2.3.4', b'x', tlv(0x01, b'\x00')))), 'critical'),
    'extension critical 0x01': (cert(tail=extensions(extension('1.2.3.4', b'x', tlv(0x01, b'\x01')))), 'critical'),
    'extension with extra field': (cert(tail=extensions(tlv(0x30, oid('1.2.3.4'), tlv(0x04, b''), integer(1)))),
                                   'after its last field'),
    'extensions as a SET': (cert(tail=tlv(0xa3, tlv(0x31, extension('1.2.3.4', b'x')))), 'extensions: expected SEQUENCE'),
    'two SEQUENCEs in [3]': (cert(tail=tlv(0xa3, tlv(0x30), tlv(0x30))), 'after its last field'),
    'unique identifiers out of order': (cert(tail=tlv(0x82, b'\x00\x01') + tlv(0x81, b'\x00\x01')), 'unexpected [1]'),
    'unique identifier with bad unused bits': (cert(tail=tlv(0x81, b'\x09\x01')), 'invalid unused bits'),
    'constructed unique identifier': (cert(tail=tlv(0xa1, tlv(0x03, b'\x00\x01'))), 'unexpected tag 0xa1'),
    'field after the extensions': (cert(tail=extensions() + integer(1)), 'unexpected INTEGER'),
    'signature missing': (cert(outer=ECDSA_SHA256), 'signature: missing'),
    'signature as OCTET STRING': (cert(outer=ECDSA_SHA256 + tlv(0x04, b'')), 'signature: expected BIT STRING'),
    'field after the signature': (cert(outer=ECDSA_SHA256 + tlv(0x03, b'\x00') + tlv(0x05, b'')), 'after its last field'),
    'a SET, not a certificate': (tlv(0x31, b''), 'certificate: expected SEQUENCE'),
    'empty input': (b'', 'certificate: missing'),
    'one byte': (b'\x30', 'truncated'),
}


@pytest.mark.parametrize('case', sorted(REFUSED))
def test_what_cryptography_refuses_the_reader_refuses_and_says_why(case):
    der, why = REFUSED[case]
    assert by_cryptography(der) is None, 'cryptography reads it: the case tests nothing'
    assert why in refusal(der)
    with pytest.raises(_certs.CertificateError) as err:
        _certs.parse_certificate(der, '/etc/ssl/bad.crt')
    assert err.value.message.startswith('/etc/ssl/bad.crt: not a readable X.509 certificate: ') and why in err.value.message
    assert err.value.source == '/etc/ssl/bad.crt'


# The reader checks the shape of the parts it does not read (algorithm parameters, the key, extension
# values); cryptography also checks the parameters of the algorithms it knows. These certificates,
# which cryptography refuses, the reader reads: their dates and names are still the ones written.
LENIENT = {
    'EC key with an INTEGER as curve': cert(spki=tlv(0x30, tlv(0x30, oid('1.2.840.10045.2.1'), integer(5)), tlv(0x03, b'\x00\x04'))),
    'EC key without curve': cert(spki=tlv(0x30, tlv(0x30, oid('1.2.840.10045.2.1')), tlv(0x03, b'\x00\x04'))),
    'RSA key with an INTEGER parameter': cert(spki=tlv(0x30, tlv(0x30, oid('1.2.840.113549.1.1.1'), integer(1)), tlv(0x03, b'\x00'))),
    'ECDSA signature with NULL parameters': cert(signature=tlv(0x30, oid('1.2.840.10045.4.3.2'), tlv(0x05, b''))),
}


@pytest.mark.parametrize('case', sorted(LENIENT))
def test_algorithm_parameters_are_not_read(case):
    der = LENIENT[case]
    assert by_cryptography(der) is None
    assert _der.read_certificate(der) == by_cryptography(cert())


# --- fallback -------------------------------------------------------------------------------------

def test_a_certificate_the_reader_refuses_is_read_by_cryptography():
    der = cert(signature=tlv(0x30, oid('1.2.3.4'), b'\x1f\x81\x00\x01a'))  # a parameter with a multi-octet tag
    assert 'multi-octet tag' in refusal(der)
    expected = by_cryptography(der)
    assert expected is not None and expected['subject'] == 'CN=subject'
    assert _certs.parse_certificate(der, 'x') == _certs.CertificateInfo(source='x', **expected)


# --- hostile input ------------------------------------------------------------------------------

def test_every_truncation_of_a_real_certificate_is_refused():
    der = build(subject=NAMES['every short name'][0])
    for size in range(len(der)):
        with pytest.raises(_der.DerError):
            _der.read_certificate(der[:size])
        with pytest.raises(_certs.CertificateError) as err:
            _certs.parse_certificate(der[:size], 'cut.pem')
        assert err.value.message.startswith('cut.pem: not a readable X.509 certificate: ')


def _claiming(der, pos, extra):
    """``der`` with the element at ``pos`` claiming ``extra`` more content bytes than it holds."""
    dummy, start, stop = _der._header(der, pos, len(der), '')
    octets = start - pos - 1
    claimed = stop - start + extra
    head = bytes([claimed]) if octets == 1 else bytes([0x80 | (octets - 1)]) + claimed.to_bytes(octets - 1, 'big')
    assert len(head) == octets
    return der[:pos + 1] + head + der[start:]


def test_lengths_that_run_past_the_end():
    der = build(subject=NAMES['every short name'][0])  # a tbsCertificate of over 255 bytes: 2 length octets
    dummy, tbs, dummy = _der._header(der, 0, len(der), '')
    dummy, dummy, tbs_stop = _der._header(der, tbs, len(der), '')
    dummy, dummy, signature = _der._header(der, tbs_stop, len(der), '')  # the signature follows its algorithm
    value = der.index(b'\x0c\x03web')  # the common name
    for pos, extra in ((0, 1), (0, 1000), (tbs, len(der) - tbs_stop + 1), (signature, 1), (value, 1), (value, 100)):
        assert 'runs past the end' in refusal(_claiming(der, pos, extra)), (pos, extra)
    body = b'\x30\x84\x7f\xff\xff\xff' + der[tbs + 4:]  # the tbsCertificate claims 2 GiB
    assert 'tbsCertificate: SEQUENCE of 2147483647 bytes runs past the end' in refusal(b'\x30\x82' + len(body).to_bytes(2, 'big') + body)
    assert 'truncated inside the length octets' in refusal(b'\x30\x84\x00\x00')


def _shape_only_parts(der):
    """Where the contents of ``der`` are checked only for their shape (see LENIENT): the signature
    algorithms, the signature, the public key and the extensions."""
    cert_start, dummy = _der._expect(der, 0, len(der), 0x30, '')
    tbs_start, tbs_end = _der._expect(der, cert_start, len(der), 0x30, '')
    parts = [(tbs_end, len(der))]
    pos, index = tbs_start, 0
    while pos < tbs_end:
        dummy, dummy, stop = _der._header(der, pos, tbs_end, '')
        if index in (2, 6) or der[pos] == 0xa3:  # with a version field: signature, subjectPublicKeyInfo
            parts.append((pos, stop))
        pos, index = stop, index + 1
    return parts


def assert_refused_or_same(original, der, where):
    """``der`` (``original`` changed at the offsets ``where``) is refused, or read as cryptography reads it;
    or cryptography refuses a change the reader checks only for its shape: then, with those changes
    undone, cryptography reads what the reader read."""
    read, expected = by_reader(der), by_cryptography(der)
    if read is not None and expected is None:
        parts = _shape_only_parts(original)
        shape_only = [pos for pos in where if any(start <= pos < stop for start, stop in parts)]
        assert shape_only, where
        restored = bytearray(der)
        for pos in shape_only:
            restored[pos] = original[pos]
        assert read == by_cryptography(bytes(restored)), where
        return 'lenient'
    assert read is None or read == expected, where
    return 'read' if read else 'refused'


def test_every_byte_of_a_real_certificate_changed_is_refused_or_read_as_cryptography_reads_it():
    der = build(subject=NAMES['multi-valued RDN'][0])
    seen = collections.Counter()
    for pos in range(len(der)):
        for delta in (-1, 1, 0x80):
            seen[assert_refused_or_same(der, der[:pos] + bytes([(der[pos] + delta) % 256]) + der[pos + 1:], [pos])] += 1
    assert seen['refused'] and seen['read'], seen


def _nested(depth, tag=0x30):
    """``depth`` headers of ``tag`` (a SEQUENCE), each holding the rest, lengths in their shortest form."""
    segments = []  # from the innermost out; in each, the headers whose lengths take the same octets
    inner = 0
    for octets, limit in ((0, 0x80), (1, 0x100), (2, 0x10000), (3, 0x1000000), (4, 0x100000000)):
        size = 2 + octets
        count = min(depth, max(0, (limit - 1 - inner) // size + 1))
        if not count:
            continue
        lengths = array.array('I', range(inner + size * (count - 1), inner - 1, -size))
        assert lengths.itemsize == 4
        if sys.byteorder == 'little':
            lengths.byteswap()
        lengths = lengths.tobytes()
        segment = bytearray(size * count)
        segment[0::size] = bytes([tag]) * count
        if octets:
            segment[1::size] = bytes([0x80 | octets]) * count
        for octet in range(max(octets, 1)):
            segment[(2 if octets else 1) + octet::size] = lengths[4 - max(octets, 1) + octet::4]
        segments.append(bytes(segment))
        inner += size * count
        depth -= count
    assert depth == 0
    return b''.join(reversed(segments))


def test_nested_headers_are_der():
    data = _nested(70000)
    pos = count = 0
    while pos < len(data):
        tag, pos, stop = _der._header(data, pos, len(data), '')
        assert tag == 0x30 and stop == len(data)
        count += 1
    assert count == 70000


def test_deeply_nested_input_fails_at_once():
    for der in (_nested(100000), cert(subject=_nested(10000)), cert(subject=name(_nested(10000, 0x31))),
                cert(subject=name(rdn(tlv(0x30, oid(CN), _nested(10000)))))):
        started = time.process_time()
        refusal(der)
        assert time.process_time() - started < 0.1


def test_an_rdn_of_20000_attributes_is_read_in_linear_time():
    der = cert(subject=name(rdn(*sorted(atv(CN, 0x0c, b'%05d' % n) for n in range(20000)))))
    started = time.process_time()
    read = _der.read_certificate(der)
    assert time.process_time() - started < 0.5
    assert read == by_cryptography(der) and read['subject'].startswith('CN=00000+CN=00001+')


def test_a_10_mb_file_of_nested_headers_fails_well_under_a_second(tmp_path):
    path = tmp_path / 'nested.crt'
    path.write_bytes(_nested(2200000))
    assert path.stat().st_size > 10 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(_certs.CertificateError) as err:
        _certs.read_certificate_file(str(path))
    assert time.monotonic() - started < 0.5
    assert err.value.message.startswith('%s: not a readable X.509 certificate: ' % path)


def test_a_10_mb_file_of_pem_begin_lines_fails_well_under_a_second(tmp_path):
    path = tmp_path / 'begin.pem'
    path.write_bytes(b'-----BEGIN CERTIFICATE-----\n' * 400000)
    started = time.monotonic()
    with pytest.raises(_certs.CertificateError) as err:
        _certs.read_certificate_file(str(path))
    assert time.monotonic() - started < 0.5
    assert err.value.message == '%s: contains no PEM certificate (no BEGIN CERTIFICATE block)' % path


def test_random_bytes_are_refused():
    rng = random.Random(20240614)
    for count in range(3000):
        size = rng.randrange(0, 400)
        data = rng.getrandbits(8 * size).to_bytes(size, 'big')
        if count % 2:  # a plausible start: a SEQUENCE of the right length
            data = b'\x30\x82' + len(data).to_bytes(2, 'big') + data
        assert by_reader(data) is None


def test_mutated_certificates_are_refused_or_read_as_cryptography_reads_them():
    rng = random.Random(1404)
    originals = [build(subject=NAMES[case][0]) for case in ('multi-valued RDN', 'non-ASCII', 'string types')]
    seen = collections.Counter()
    for count in range(4000):
        original = originals[count % len(originals)]
        der = bytearray(original)
        where = [rng.randrange(len(der)) for dummy in range(rng.choice((1, 1, 2, 3)))]
        for pos in where:
            der[pos] = rng.randrange(256) if rng.random() < 0.5 else der[pos] ^ (1 << rng.randrange(8))
        seen[assert_refused_or_same(original, bytes(der), where)] += 1
    assert seen['refused'] and seen['read'], seen
