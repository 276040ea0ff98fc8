#!/usr/bin/env python3
"""Self-test of tools/verify_audit.py: python3 tools/test_verify_audit.py (standard library only).

Ed25519 against RFC 8032's test vectors, the hashing against Certificate
Transparency's published reference tree, proofs against RFC 9162's own
definitions written out naively here, the canonical encoding against values
pinned from the hub's Rust code, and whole responses and the command line
against tree heads this test signs itself. `./scripts/test` runs it
(tests/e2e/verify_audit_tool.rs).
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no tools/__pycache__ in the repository
import verify_audit as v  # noqa: E402
from verify_audit import Failed, Unreadable  # noqa: E402


# RFC 8032 5.1.5 and 5.1.6, so that the tests can sign tree heads; the verifier only verifies.
def expand(secret):
    digest = hashlib.sha512(secret).digest()
    return int.from_bytes(digest[:32], "little") & ((1 << 254) - 8) | (1 << 254), digest[32:]


def public_key(secret):
    return v.point_compress(v.point_mul(expand(secret)[0], v.G))


def sign(secret, message):
    a, prefix = expand(secret)
    r = int.from_bytes(hashlib.sha512(prefix + message).digest(), "little") % v.L
    big_r = v.point_compress(v.point_mul(r, v.G))
    k = int.from_bytes(hashlib.sha512(big_r + public_key(secret) + message).digest(), "little") % v.L
    return big_r + ((r + k * a) % v.L).to_bytes(32, "little")


# RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 as written: MTH, PATH and SUBPROOF over leaf data.
def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    if len(leaves) <= 1:
        return v.leaf_hash(leaves[0]) if leaves else hashlib.sha256(b"").digest()
    k = split(len(leaves))
    return v.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    if len(leaves) <= 1:
        return []
    k = split(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, whole):
    if m == len(leaves):
        return [] if whole else [mth(leaves)]
    k = split(len(leaves))
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


class Ed25519(unittest.TestCase):
    # RFC 8032 section 7.1, TEST 1 to 3: secret key, public key, message, signature.
    VECTORS = [(bytes.fromhex(s), bytes.fromhex(p), bytes.fromhex(m), bytes.fromhex(sig)) for s, p, m, sig in [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
         "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
         "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
         "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]]

    def test_the_rfc_8032_vectors_verify_and_the_test_signer_reproduces_them(self):
        for secret, public, message, signature in self.VECTORS:
            self.assertTrue(v.ed25519_verify(public, message, signature))
            self.assertEqual(public_key(secret), public)
            self.assertEqual(sign(secret, message), signature)

    def test_a_tampered_signature_message_or_key_fails(self):
        _, public, message, signature = self.VECTORS[1]
        for i in (0, 31, 32, 63):
            tampered = bytearray(signature)
            tampered[i] ^= 0x01
            self.assertFalse(v.ed25519_verify(public, message, bytes(tampered)), f"byte {i}")
        self.assertFalse(v.ed25519_verify(public, b"\x73", signature))
        self.assertFalse(v.ed25519_verify(self.VECTORS[0][1], message, signature))
        self.assertFalse(v.ed25519_verify(public, message, signature[:63]))
        self.assertFalse(v.ed25519_verify(public[:31], message, signature))

    def test_a_non_canonical_s_is_refused(self):
        # S + L verifies the same group equation; RFC 8032 5.1.7 says to reject S >= L.
        _, public, message, signature = self.VECTORS[0]
        s = int.from_bytes(signature[32:], "little") + v.L
        self.assertFalse(v.ed25519_verify(public, message, signature[:32] + s.to_bytes(32, "little")))

    def test_bad_point_encodings_are_refused(self):
        _, public, message, signature = self.VECTORS[0]
        not_a_y = b"\xff" * 32  # y = 2^255 - 1 >= p
        non_canonical_one = (v.P + 1).to_bytes(32, "little")  # y = 1 written as p + 1
        minus_zero = (1 | 1 << 255).to_bytes(32, "little")  # y = 1 has x = 0, which has no negative
        y = next(y for y in range(2, 100) if v.point_decompress(y.to_bytes(32, "little")) is None)
        x2 = (y * y - 1) * pow(v.D * y * y + 1, v.P - 2, v.P) % v.P
        self.assertEqual(pow(x2, (v.P - 1) // 2, v.P), v.P - 1, "Euler: no x for this y, not on the curve")
        for encoding in (not_a_y, non_canonical_one, minus_zero, y.to_bytes(32, "little")):
            self.assertIsNone(v.point_decompress(encoding))
            self.assertFalse(v.ed25519_verify(encoding, message, signature))
            self.assertFalse(v.ed25519_verify(public, message, encoding + signature[32:]))
        self.assertIsNotNone(v.point_decompress((1).to_bytes(32, "little")))


class Hashing(unittest.TestCase):
    # Certificate Transparency's reference tree (transparency-dev/merkle testonly/constants.go).
    LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"]]
    ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
             "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
             "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
             "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
             "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
             "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]

    def test_the_empty_tree_and_the_empty_leaf(self):
        self.assertEqual(mth([]).hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        self.assertEqual(v.leaf_hash(b"").hex(), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")

    def test_the_reference_roots(self):
        self.assertEqual([mth(self.LEAVES[:n]).hex() for n in range(1, 9)], self.ROOTS)

    def test_reference_proofs_built_from_the_published_node_hashes(self):
        root = bytes.fromhex(self.ROOTS[7])
        inclusion = ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]
        v.verify_inclusion(0, 8, v.leaf_hash(b""), [bytes.fromhex(h) for h in inclusion], root)
        from_6 = ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]
        v.verify_consistency(6, 8, bytes.fromhex(self.ROOTS[5]), root, [bytes.fromhex(h) for h in from_6])
        v.verify_consistency(4, 8, bytes.fromhex(self.ROOTS[3]), root, [bytes.fromhex(inclusion[2])])


class Proofs(unittest.TestCase):
    SIZES = range(1, 41)

    def test_inclusion_proofs_of_every_leaf_of_trees_of_1_to_40_verify_and_a_changed_leaf_fails(self):
        for n in self.SIZES:
            leaves = [b"leaf %d" % i for i in range(n)]
            root = mth(leaves)
            for m in range(n):
                audit_path = path(m, leaves)
                v.verify_inclusion(m, n, v.leaf_hash(leaves[m]), audit_path, root)
                with self.assertRaises(Failed, msg=f"changed leaf {m} of {n}"):
                    v.verify_inclusion(m, n, v.leaf_hash(leaves[m] + b"!"), audit_path, root)
                for wrong in (audit_path[:-1], audit_path + [root]) if audit_path else ([root],):
                    with self.assertRaises(Failed, msg=f"{len(wrong)} hashes for leaf {m} of {n}"):
                        v.verify_inclusion(m, n, v.leaf_hash(leaves[m]), wrong, root)
            with self.assertRaises(Failed):
                v.verify_inclusion(n, n, v.leaf_hash(b"past the end"), [], root)

    def test_consistency_proofs_between_all_trees_up_to_40_verify_and_a_rewrite_fails(self):
        for n in self.SIZES:
            leaves = [b"leaf %d" % i for i in range(n)]
            root = mth(leaves)
            for m in range(1, n + 1):
                proof = subproof(m, leaves, True)
                v.verify_consistency(m, n, mth(leaves[:m]), root, proof)
                for changed in {0, m - 1}:
                    rewritten = leaves[:changed] + [b"rewritten"] + leaves[changed + 1:]
                    with self.assertRaises(Failed, msg=f"{m} -> {n}, leaf {changed} rewritten"):
                        v.verify_consistency(m, n, mth(leaves[:m]), mth(rewritten), subproof(m, rewritten, True))
                if proof:
                    with self.assertRaises(Failed):
                        v.verify_consistency(m, n, mth(leaves[:m]), root, proof[:-1])
                    with self.assertRaises(Failed):
                        v.verify_consistency(m, n, mth(leaves[:m]), root, proof + [root])


def entry(seq, **fields):
    """An AuditEntry as grpcurl prints it (lowerCamelCase, 64-bit integers as strings, empty fields absent)."""
    at = f"2026-03-01T09:{seq // 60 % 60:02}:{seq % 60:02}.{seq:06}Z"
    return {"seq": str(seq), "at": at, "action": "MESSAGE_SUBMITTED", "outcome": "SUCCESS", "severity": "INFO",
            "actorOrg": f"org-{seq % 3}", "messageId": f"m-{seq}", "detail": '{"disclosed":["IDENTITY"]}', **fields}


class Encoding(unittest.TestCase):
    def test_leaf_hashes_match_the_rust_reference(self):
        # Pinned from the hub's Rust code: Entry::canonical() then audit::merkle::leaf_hash() in
        # crates/domain (a throwaway test run on the working tree of issue 29), for these entries.
        full = entry(1234567890123, at="2026-03-01T09:30:15.123456Z", actorOrg="sozialdienst-müritz",
                     actorSubject="worker-17", actorRoles="referrer,auditor",
                     actorCertificate="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                     sourceAddress="[2001:db8::1]:443", purpose="SERVICE_PROVISION",
                     messageId="0190b3e4-7c1a-7b8e-9f00-000000000001", messageKind="REFERRAL",
                     childKeyHash="2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", consentId="c-42",
                     legalBasis="SGB VIII § 8a", detail='{"disclosed":["IDENTITY","RISK"],"withheld":["HEALTH"]}',
                     traceId="4bf92f3577b34da6a3ce929d0e0e4736")
        self.assertEqual(len(v.canonical(full)), 472)
        self.assertEqual(v.leaf_hash(v.canonical(full)).hex(),
                         "256405ec36a6adf4705016974a30554216cf5e28002679e60b09635fbc232d24")
        before_1970 = {"seq": "1", "at": "1969-12-31T23:59:59.999999Z", "action": "A"}  # at = -1 µs
        self.assertEqual(v.canonical(before_1970), b"RHAUDIT\x01" + bytes(7) + b"\x01" + b"\xff" * 8
                         + b"\x00\x00\x00\x01A" + bytes(4 * 15))
        self.assertEqual(v.leaf_hash(v.canonical(before_1970)).hex(),
                         "d552a00112bcfdb17bf5ddc073aca0f0c44ce6b8c40605708c761ac8dc1b1a19")
        snake = {"seq": 1, "at": "1969-12-31T23:59:59.999999Z", "action": "A", "trace_id": None}
        self.assertEqual(v.canonical(snake), v.canonical(before_1970))

    def test_timestamps_convert_exactly_to_microseconds(self):
        for text, micros in [("1970-01-01T00:00:00Z", 0), ("2026-03-01T09:30:15.123456789Z", 1772357415123456),
                             ("2026-03-01T10:30:15.1+01:00", 1772357415100000),
                             ("2026-03-01T08:00:15.100-01:30", 1772357415100000), ("1969-12-31T23:59:59.999999Z", -1),
                             ("0001-01-01T00:00:00Z", -62135596800 * 10**6),
                             ("9999-12-31T23:59:59.999999999Z", 253402300799999999)]:
            self.assertEqual(v.timestamp_micros(text), micros, text)
        for text in ("2026-02-30T00:00:00Z", "2026-03-01 09:30:15Z", "2026-03-01T09:30:15.1234567890Z", 1, None):
            with self.assertRaises(Unreadable, msg=text):
                v.timestamp_micros(text)

    def test_integers_and_bytes_in_every_form_the_json_mapping_allows(self):
        for message in ({"treeSize": "5"}, {"tree_size": 5}, {"treeSize": 5.0}):
            self.assertEqual(v.integer(message, "tree_size"), 5)
        for message in ({"treeSize": True}, {"treeSize": "5.5"}, {"treeSize": "-1"}, {"treeSize": str(2**64)}):
            with self.assertRaises(Unreadable, msg=message):
                v.integer(message, "tree_size")
        data = bytes([0xfb, 0xff, 0xbf, 0x01])
        for text in ("+/+/AQ==", "+/+/AQ", "-_-_AQ==", "-_-_AQ"):
            self.assertEqual(v.b64(text, "x"), data, text)
        for text in ("@@@@", "A", 4):
            with self.assertRaises(Unreadable, msg=text):
                v.b64(text, "x")


T0, T1 = 1772000000000000, 1772357415000000  # k1 in use from T0, k2 from T1
K1, K2 = bytes(range(32)), bytes(range(32, 64))
ENTRIES = [entry(seq) for seq in range(1, 11)]
JWKS = {"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
                  "x": base64.urlsafe_b64encode(public_key(secret)).decode().rstrip("="), **period}
                 for kid, secret, period in [("k1", K1, {"valid_from_micros": T0, "valid_until_micros": T1}),
                                             ("k2", K2, {"valid_from_micros": T1})]]}
LIST_SIGNING_KEYS = {"keys": [
    {"keyId": "k1", "publicKey": base64.b64encode(public_key(K1)).decode(), "validFromMicros": str(T0),
     "validUntilMicros": str(T1)},
    {"keyId": "k2", "publicKey": base64.b64encode(public_key(K2)).decode(), "validFromMicros": str(T1)}]}


def head(size, entries=ENTRIES, secret=K2, kid="k2", at=T1 + 1):
    """A SignedTreeHead over the first `size` entries, as the hub writes it."""
    root = mth([v.canonical(e) for e in entries[:size]])
    message = f"referral-hub audit tree head v1\nsize={size}\nroot={root.hex()}\nat={at}\nkid={kid}\n".encode()
    return {"treeSize": str(size), "rootHash": base64.b64encode(root).decode(), "signedAtMicros": str(at),
            "keyId": kid, "signature": base64.b64encode(sign(secret, message)).decode()}


def b64_list(hashes):
    return [base64.b64encode(h).decode() for h in hashes]


def inclusion(seq, size, entries=ENTRIES):
    leaves = [v.canonical(e) for e in entries[:size]]
    return {"entry": entries[seq - 1], "leafIndex": str(seq - 1), "treeHead": head(size, entries),
            "path": b64_list(path(seq - 1, leaves))}


def consistency(first, second, entries=ENTRIES):
    proof = subproof(first, [v.canonical(e) for e in entries[:second]], True)
    return {"first": head(first, entries), "second": head(second, entries), "path": b64_list(proof)}


class Responses(unittest.TestCase):
    def test_a_tree_head_verifies_with_either_form_of_the_keys(self):
        for keys in (JWKS, LIST_SIGNING_KEYS):
            self.assertTrue(v.verify_tree_head(head(7), keys).startswith("signed: tree 7 has root "))
            self.assertTrue(v.verify_tree_head({"treeHead": head(7)}, keys).startswith("signed: tree 7"))

    def test_a_head_signed_before_a_rotation_still_verifies_in_its_keys_period_only(self):
        v.verify_tree_head(head(3, secret=K1, kid="k1", at=T0), JWKS)
        v.verify_tree_head(head(3, secret=K1, kid="k1", at=T1 - 1), LIST_SIGNING_KEYS)
        for wrong_time in (head(3, secret=K1, kid="k1", at=T1), head(3, secret=K1, kid="k1", at=T0 - 1),
                           head(3, at=T1 - 1)):
            with self.assertRaisesRegex(Failed, "was not in use at"):
                v.verify_tree_head(wrong_time, JWKS)

    def test_a_head_fails_with_an_unknown_key_another_key_or_a_changed_field(self):
        with self.assertRaisesRegex(Failed, "not among the published keys"):
            v.verify_tree_head(head(3, kid="k3"), JWKS)
        with self.assertRaisesRegex(Failed, "does not verify"):
            v.verify_tree_head(head(3, secret=K1, kid="k2"), JWKS)
        for name, value in [("treeSize", "4"), ("rootHash", head(4)["rootHash"]), ("signedAtMicros", str(T1 + 2))]:
            with self.assertRaisesRegex(Failed, "does not verify", msg=name):
                v.verify_tree_head({**head(3), name: value}, JWKS)
        with self.assertRaisesRegex(Failed, "root_hash is 31 bytes"):
            v.verify_tree_head({**head(3), "rootHash": base64.b64encode(bytes(31)).decode()}, JWKS)

    def test_an_inclusion_proof_holds_for_the_entry_as_it_was_and_for_no_other(self):
        for seq, size in [(1, 1), (1, 10), (7, 7), (7, 10), (10, 10)]:
            self.assertEqual(v.verify_inclusion_response(inclusion(seq, size), LIST_SIGNING_KEYS),
                             f"included: entry {seq} (MESSAGE_SUBMITTED) is leaf {seq - 1} of tree {size}, "
                             f"signed by key k2")
        edited = inclusion(7, 10)
        edited["entry"] = {**edited["entry"], "actorOrg": "someone-else"}
        with self.assertRaisesRegex(Failed, "does not lead to the signed root"):
            v.verify_inclusion_response(edited, JWKS)
        with self.assertRaisesRegex(Failed, "entry 7 is leaf 6, not leaf 5"):
            v.verify_inclusion_response({**inclusion(7, 10), "leafIndex": "5"}, JWKS)
        with self.assertRaises(Unreadable):
            v.verify_inclusion_response({**inclusion(7, 10), "entry": None}, JWKS)

    def test_a_consistency_proof_holds_and_a_rewrite_is_caught_by_the_head_the_organisation_kept(self):
        self.assertEqual(v.verify_consistency_response(consistency(5, 8), JWKS), "consistent: tree 8 extends tree 5")
        kept = head(5)
        self.assertEqual(v.verify_consistency_response(consistency(5, 8), JWKS, {"treeHead": kept}),
                         "consistent: tree 8 extends tree 5, the one you kept")
        v.verify_consistency_response(consistency(8, 8), JWKS)
        rewritten = ENTRIES[:2] + [{**ENTRIES[2], "detail": '{"disclosed":[]}'}] + ENTRIES[3:]
        # A hub that re-signs the rewritten log is consistent with itself; only the kept head shows it.
        v.verify_consistency_response(consistency(5, 8, rewritten), JWKS)
        with self.assertRaisesRegex(Failed, "the log was rewritten"):
            v.verify_consistency_response(consistency(5, 8, rewritten), JWKS, kept)
        with self.assertRaisesRegex(Failed, "not from the tree 4 you kept"):
            v.verify_consistency_response(consistency(5, 8), JWKS, head(4))
        # Handing out the kept head as `first` with the rewritten log's proof does not help.
        with self.assertRaisesRegex(Failed, "does not lead from"):
            v.verify_consistency_response({**consistency(5, 8, rewritten), "first": kept}, JWKS)


class CommandLine(unittest.TestCase):
    def run_verifier(self, *args, **files):
        with tempfile.TemporaryDirectory() as directory:
            for name, content in files.items():
                with open(os.path.join(directory, name), "w", encoding="utf-8") as file:
                    file.write(content if isinstance(content, str) else json.dumps(content))
            command = [sys.executable, os.path.join(HERE, "verify_audit.py"), "--keys", "keys.json", *args]
            return subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)

    def test_exit_status_0_holds_1_does_not_2_unreadable(self):
        done = self.run_verifier("consistency", "--expect-first", "kept.json", "proof.json", **{
            "keys.json": JWKS, "kept.json": head(5), "proof.json": consistency(5, 8)})
        self.assertEqual((done.returncode, done.stdout), (0, "consistent: tree 8 extends tree 5, the one you kept\n"))
        done = self.run_verifier("inclusion", "in.json", **{"keys.json": JWKS, "in.json": inclusion(3, 9)})
        self.assertEqual((done.returncode, done.stdout[:30]), (0, "included: entry 3 (MESSAGE_SUB"))
        done = self.run_verifier("tree-head", "head.json", **{"keys.json": JWKS, "head.json": head(3, kid="k1")})
        self.assertEqual(done.returncode, 1)
        self.assertIn("does not verify with key 'k1'", done.stderr)
        for files in ({"keys.json": JWKS, "head.json": "{not json"}, {"keys.json": "[]", "head.json": head(3)},
                      {"keys.json": JWKS}):
            done = self.run_verifier("tree-head", "head.json", **files)
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn("unreadable input", done.stderr)


if __name__ == "__main__":
    unittest.main()
