#!/usr/bin/env python3
"""Checks referral-hub's audit transparency log with the hub's public keys only.

Written from docs/transparency.md alone, without the hub's code: the tree and
its proofs are RFC 9162's (section 2.1, SHA-256; proofs checked by 2.1.3.2 and
2.1.4.2); tree heads are signed with Ed25519, verified here as RFC 8032 5.1.7
says, after its section 6 code (strict: S < L, canonical points only); inputs
are the protobuf JSON mapping, as grpcurl prints the hub's responses.

    verify_audit.py --keys KEYS tree-head HEAD.json
    verify_audit.py --keys KEYS inclusion INCLUSION.json
    verify_audit.py --keys KEYS consistency [--expect-first KEPT.json] PROOF.json

KEYS: the hub's JWK set (/.well-known/audit-keys.json) or a ListSigningKeys
response. Exit status 0: it holds (one line says what); 1: it does not (the
reason); 2: unreadable input. Python 3.11 standard library only; importable:
verify_tree_head, verify_inclusion_response and verify_consistency_response
take parsed JSON, return the line, raise Failed or Unreadable.
"""

import argparse
import base64
import binascii
import collections
import datetime
import hashlib
import json
import re
import sys


class Failed(Exception):
    """What the input claims does not hold (exit status 1)."""


class Unreadable(Exception):
    """The input is not what it should be (exit status 2)."""


# Ed25519 verification (RFC 8032). Points are extended coordinates (X, Y, Z, T).
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def point_add(p1, p2):
    a, b = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P, (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    c, d = 2 * p1[3] * p2[3] * D % P, 2 * p1[2] * p2[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f, g * h, f * g, e * h)


def point_mul(s, point):
    result = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            result = point_add(result, point)
        point, s = point_add(point, point), s >> 1
    return result


def point_compress(point):
    z_inv = pow(point[2], P - 2, P)
    x, y = point[0] * z_inv % P, point[1] * z_inv % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def point_decompress(data):
    """The point 32 bytes encode, or None: a y >= p, no such x, or -0 (RFC 8032 5.1.3)."""
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P or (x == 0 and sign):
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)

G = point_decompress((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed25519_verify(public, message, signature):
    """Whether `signature` is `public`'s Ed25519 signature of `message` ([S]B = R + [k]A)."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r, s = point_decompress(public), point_decompress(signature[:32]), int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return point_compress(point_mul(s, G)) == point_compress(point_add(r, point_mul(k, a)))


# The Merkle tree (RFC 9162 section 2.1).
def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2: `leaf` is leaf `index` of the tree of `size` leaves with `root`."""
    if index >= size:
        raise Failed(f"leaf {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Failed(f"the audit path has {len(path)} hashes, too many for leaf {index} of {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Failed(f"the audit path has {len(path)} hashes, too few for leaf {index} of {size}")
    if r != root:
        raise Failed(f"the audit path of leaf {index} does not lead to the signed root of tree {size}")


def verify_consistency(first, second, first_root, second_root, path):
    """RFC 9162 2.1.4.2: the tree `first` with `first_root` is a prefix of `second`."""
    if first > second:
        raise Failed(f"tree {second} cannot extend the larger tree {first}")
    if first == 0 or first == second:  # nothing to prove: same size, same root
        if path:
            raise Failed(f"a proof from tree {first} to tree {second} must be empty")
        if first and first_root != second_root:
            raise Failed(f"two different roots for tree {first}")
        return
    if not path:
        raise Failed(f"the consistency proof from tree {first} to {second} is empty")
    path = [first_root] + path if first & (first - 1) == 0 else path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Failed(f"the consistency proof from tree {first} to {second} has too many hashes")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Failed(f"the consistency proof from tree {first} to {second} has too few hashes")
    if fr != first_root or sr != second_root:
        raise Failed(f"the consistency proof does not lead from the signed tree {first} to the signed tree {second}")


# Reading the protobuf JSON mapping: lowerCamelCase or original field names,
# 64-bit integers as strings or numbers, bytes as base64 (either alphabet).
def field(message, name, default=None):
    """Field `name` of a message; absent or null is `default` (None: the field is required)."""
    if not isinstance(message, dict):
        raise Unreadable(f"expected a JSON object with {name!r}, found {type(message).__name__}")
    value = message.get(re.sub(r"_([a-z])", lambda m: m[1].upper(), name), message.get(name))
    if value is None and default is None:
        raise Unreadable(f"{name} is missing")
    return default if value is None else value


def integer(message, name, low=0, high=2**64 - 1):
    value = field(message, name, 0)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int or not low <= value <= high:
        raise Unreadable(f"{name}: not a 64-bit integer: {value!r}")
    return value


def text(message, name):
    value = field(message, name, "")
    try:
        value.encode()  # a JSON string, and Unicode text (no lone surrogates)
    except (AttributeError, UnicodeError):
        raise Unreadable(f"{name}: not a string of text: {value!r}") from None
    return value


def b64(value, name, size=None):
    if not isinstance(value, str):
        raise Unreadable(f"{name}: not base64 text: {value!r}")
    value = value.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        data = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except binascii.Error as error:
        raise Unreadable(f"{name}: not base64: {error}") from None
    if size is not None and len(data) != size:
        raise Failed(f"{name} is {len(data)} bytes, not {size}")
    return data


def listed(message, name):
    value = field(message, name, [])
    if not isinstance(value, list):
        raise Unreadable(f"{name}: not a list")
    return value


def hashes(message):
    """A proof's `path`: 32-byte hashes."""
    return [b64(value, "a path hash", 32) for value in listed(message, "path")]


RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d\d):(\d\d))")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def timestamp_micros(value):
    """A google.protobuf.Timestamp in JSON, exactly, as µs since the epoch (nanos / 1000, truncated)."""
    match = RFC3339.fullmatch(value) if isinstance(value, str) else None
    try:
        when = datetime.datetime(*map(int, match.groups()[:6]), tzinfo=datetime.timezone.utc)
    except (AttributeError, ValueError):
        raise Unreadable(f"at: not an RFC 3339 time: {value!r}") from None
    offset = 0 if not match[8] else int(match[8] + "1") * (int(match[9]) * 60 + int(match[10])) * 60
    seconds = (when - EPOCH) // datetime.timedelta(seconds=1) - offset
    return seconds * 10**6 + int((match[7] or "").ljust(9, "0")) // 1000


ENTRY_FIELDS = ("action", "outcome", "severity", "actor_org", "actor_subject", "actor_roles", "actor_certificate",
                "source_address", "purpose", "message_id", "message_kind", "child_key_hash", "consent_id",
                "legal_basis", "detail", "trace_id")


def canonical(entry):
    """An AuditEntry's canonical encoding, version 1: its leaf data (docs/transparency.md)."""
    at = timestamp_micros(field(entry, "at"))
    out = b"RHAUDIT\x01" + integer(entry, "seq").to_bytes(8, "big") + at.to_bytes(8, "big", signed=True)
    for name in ENTRY_FIELDS:
        data = text(entry, name).encode()
        out += len(data).to_bytes(4, "big") + data
    return out


def read_keys(document):
    """{key id: (public key, valid from, valid until or None)} from a JWK set or a ListSigningKeys response."""
    keys = {}
    for key in listed(document, "keys"):
        jwk = "kty" in key if isinstance(key, dict) else False
        if jwk and (key.get("kty"), key.get("crv")) != ("OKP", "Ed25519"):
            raise Unreadable(f"key {key.get('kid')!r} is not an Ed25519 key")
        kid = text(key, "kid" if jwk else "key_id")
        public = b64(field(key, "x" if jwk else "public_key"), f"key {kid!r}", 32)
        until = integer(key, "valid_until_micros", -2**63, 2**63 - 1)
        if kid in keys:
            raise Unreadable(f"key {kid!r} is listed twice")
        keys[kid] = (public, integer(key, "valid_from_micros", -2**63, 2**63 - 1), until or None)
    if not keys:
        raise Unreadable("the key set holds no keys")
    return keys


Head = collections.namedtuple("Head", "size root at kid")


def checked_head(document, keys):
    """A SignedTreeHead (or a GetTreeHeadResponse) whose signature holds, as a Head."""
    head = field(document, "tree_head", document)
    size, kid = integer(head, "tree_size"), text(head, "key_id")
    at = integer(head, "signed_at_micros", -2**63, 2**63 - 1)
    root = b64(field(head, "root_hash", ""), "root_hash", 32)
    signature = b64(field(head, "signature", ""), "signature", 64)
    if kid not in keys:
        raise Failed(f"tree {size} is signed by key {kid!r}, which is not among the published keys")
    public, valid_from, valid_until = keys[kid]
    message = f"referral-hub audit tree head v1\nsize={size}\nroot={root.hex()}\nat={at}\nkid={kid}\n"
    if not ed25519_verify(public, message.encode(), signature):
        raise Failed(f"the signature of tree head {size} does not verify with key {kid!r}")
    if at < valid_from or (valid_until is not None and at >= valid_until):
        raise Failed(f"key {kid!r} was not in use at {at} (in use from {valid_from} until {valid_until or 'now'})")
    return Head(size, root, at, kid)


def verify_tree_head(head, keys):
    """Checks a tree head's signature and signing time against the keys; returns what holds."""
    head = checked_head(head, read_keys(keys))
    return f"signed: tree {head.size} has root {head.root.hex()}, signed by key {head.kid} at={head.at}"


def verify_inclusion_response(document, keys):
    """Checks a GetInclusionProofResponse: the entry's leaf, its path and the tree head."""
    head = checked_head(field(document, "tree_head"), read_keys(keys))
    entry, index = field(document, "entry"), integer(document, "leaf_index")
    seq = integer(entry, "seq")
    if index != seq - 1:
        raise Failed(f"entry {seq} is leaf {seq - 1}, not leaf {index}")
    verify_inclusion(index, head.size, leaf_hash(canonical(entry)), hashes(document), head.root)
    action = text(entry, "action")
    return f"included: entry {seq} ({action}) is leaf {index} of tree {head.size}, signed by key {head.kid}"


def verify_consistency_response(document, keys, expect_first=None):
    """Checks a GetConsistencyProofResponse; `expect_first`: the tree head the caller kept earlier."""
    keys = read_keys(keys)
    first, second = checked_head(field(document, "first"), keys), checked_head(field(document, "second"), keys)
    if expect_first is not None:
        kept = checked_head(expect_first, keys)
        if kept.size != first.size:
            raise Failed(f"the proof starts from tree {first.size}, not from the tree {kept.size} you kept")
        if kept.root != first.root:
            raise Failed(f"the hub now signs tree {first.size} with root {first.root.hex()}, "
                         f"but the tree head you kept has root {kept.root.hex()}: the log was rewritten")
    verify_consistency(first.size, second.size, first.root, second.root, hashes(document))
    return f"consistent: tree {second.size} extends tree {first.size}" + (", the one you kept" if expect_first else "")


def load(path):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError) as error:
        raise Unreadable(f"{path}: {error}") from None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="exit status: 0 it holds, 1 it does not, 2 unreadable input")
    parser.add_argument("--keys", required=True, metavar="FILE", help="JWK set or ListSigningKeys response (JSON)")
    checks = parser.add_subparsers(dest="check", required=True)
    checks.add_parser("tree-head", help="a SignedTreeHead or GetTreeHeadResponse").add_argument("file", metavar="FILE")
    checks.add_parser("inclusion", help="a GetInclusionProofResponse").add_argument("file", metavar="FILE")
    consistency = checks.add_parser("consistency", help="a GetConsistencyProofResponse")
    consistency.add_argument("file", metavar="FILE")
    consistency.add_argument("--expect-first", metavar="FILE", help="the tree head you kept earlier")
    args = parser.parse_args(argv)
    try:
        keys, document = load(args.keys), load(args.file)
        if args.check == "tree-head":
            line = verify_tree_head(document, keys)
        elif args.check == "inclusion":
            line = verify_inclusion_response(document, keys)
        else:
            kept = load(args.expect_first) if args.expect_first else None
            line = verify_consistency_response(document, keys, kept)
    except Unreadable as error:
        print(f"verify_audit: unreadable input: {error}", file=sys.stderr)
        return 2
    except Failed as error:
        print(f"verify_audit: does not hold: {error}", file=sys.stderr)
        return 1
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
