#!/usr/bin/env python3
"""Seeds for the fuzz targets, cut from the repository's vectors.

Usage: python3 fuzz/seeds.py OUT_DIR [TARGET...]

Writes OUT_DIR/TARGET/<sha256 prefix> files. Only the repository's own
files are read (bundles, trusted roots, signing configs, TUF metadata,
certificates and timestamps inside bundles, checkpoints, envelopes, key
files), in sorted order, so the same checkout gives the same seeds. A
target whose input is a binary structure of its own (the Merkle proof
targets, compact ranges, the tile differential) gets no seeds here: its
checked-in corpus (fuzz/corpus-min/TARGET) is its seed.
"""

import hashlib
import json
import struct
import base64
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTOR_DIRS = [
    "crates/attestlog-testkit/vectors",
    "crates/attest-dsse/tests/vectors",
    "crates/attest-rekor/tests",
    "crates/attestlog-cli/tests/data",
]


def files(suffixes):
    for d in VECTOR_DIRS:
        base = os.path.join(ROOT, d)
        for dirpath, dirnames, names in os.walk(base):
            dirnames.sort()
            for n in sorted(names):
                if n.endswith(suffixes):
                    yield os.path.join(dirpath, n)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def json_docs():
    for p in files((".json",)):
        try:
            yield p, json.loads(read(p))
        except (ValueError, UnicodeDecodeError):
            continue


def walk(value, key=None):
    """Every (key, value) pair in a JSON document, depth first."""
    if isinstance(value, dict):
        for k in sorted(value):
            yield k, value[k]
            yield from walk(value[k], k)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, key)


def b64(s):
    try:
        return base64.b64decode(s, validate=False)
    except (ValueError, TypeError):
        return None


def strings_under(names):
    for _, doc in json_docs():
        for k, v in walk(doc):
            if k in names and isinstance(v, str):
                yield v


def bundles():
    for p, doc in json_docs():
        if isinstance(doc, dict) and "verificationMaterial" in doc:
            yield p, doc


def trust_docs():
    for p, doc in json_docs():
        if isinstance(doc, dict) and str(doc.get("mediaType", "")).startswith(
            ("application/vnd.dev.sigstore.trustedroot", "application/vnd.dev.sigstore.signingconfig",
             "application/vnd.dev.sigstore.clienttrustconfig")
        ):
            yield read(p)


def seeds(target):
    if target == "checkpoint_parse":
        for e in strings_under({"envelope"}):
            if "\n\n" in e:
                yield e.encode()
        for p in files(("checkpoint", ".note")):
            yield read(p)
    elif target == "certificate":
        for s in strings_under({"rawBytes"}):
            der = b64(s)
            if der and der[:1] == b"\x30":
                yield der
    elif target == "rfc3161":
        for s in strings_under({"signedTimestamp"}):
            der = b64(s)
            if der:
                yield der
    elif target == "sct_list":
        yield b"\x04\x02\x00\x00"
        # the SCT-list extension values of the vectors' certificates
        oid = bytes.fromhex("060a2b06010401d679020402")
        for s in strings_under({"rawBytes"}):
            der = b64(s) or b""
            at = der.find(oid)
            if at < 0:
                continue
            rest = der[at + len(oid):]
            if rest[:1] == b"\x01":  # critical BOOLEAN
                rest = rest[3:]
            if rest[:1] != b"\x04":
                continue
            n, off = rest[1], 2
            if n & 0x80:
                k = n & 0x7F
                n, off = int.from_bytes(rest[2:2 + k], "big"), 2 + k
            yield rest[off:off + n]
    elif target == "dsse_envelope":
        for _, doc in json_docs():
            for k, v in walk(doc):
                if k == "dsseEnvelope" and isinstance(v, dict):
                    yield json.dumps(v).encode()
            if isinstance(doc, dict) and {"payload", "payloadType", "signatures"} <= doc.keys():
                yield json.dumps(doc).encode()
    elif target == "dsse_keyset":
        for _, doc in json_docs():
            if isinstance(doc, dict) and isinstance(doc.get("keys"), list):
                yield json.dumps(doc).encode()
        # key-set documents made of the vectors' JWKs: one key, two keys
        # (a rotation), windows and statuses
        jwks = []
        for _, doc in json_docs():
            for k, v in walk(doc):
                if isinstance(v, dict) and "kty" in v and v not in jwks:
                    jwks.append(v)
        windows = [
            {"valid_from": "1970-01-01T00:00:00Z"},
            {"valid_from": "2024-01-01T00:00:00Z", "valid_until": "2025-01-01T00:00:00Z",
             "status": "retired"},
            {"valid_from": "2025-06-01T00:00:00.5+02:00", "status": "revoked"},
        ]
        for i, jwk in enumerate(jwks):
            one = dict(jwk, **windows[i % len(windows)])
            yield json.dumps({"version": i + 1, "keys": [one]}).encode()
            if i + 1 < len(jwks):
                two = dict(jwks[i + 1], **windows[(i + 1) % len(windows)])
                yield json.dumps({"version": 1, "keys": [one, two]}).encode()
    elif target == "rekor_parsers":
        for p, _ in bundles():
            yield read(p)
        for e in strings_under({"envelope"}):
            yield e.encode()
    elif target == "tiles_v2":
        for p, _ in bundles():
            body = read(p)
            yield bytes(41) + body
    elif target == "trust_documents":
        yield from trust_docs()
    elif target == "tuf_update":
        tuf = os.path.join(ROOT, "crates/attestlog-testkit/vectors/tuf")
        for dirpath, dirnames, names in os.walk(tuf):
            dirnames.sort()
            roots = sorted(n for n in names if n.endswith("root.json"))
            rest = sorted(n for n in names if n.endswith(".json") and n not in roots)
            if roots:
                pieces = [read(os.path.join(dirpath, roots[0]))]
                pieces += [read(os.path.join(dirpath, n)) for n in rest]
                yield b"\0".join(pieces)
    elif target == "local_log":
        for _, doc in json_docs():
            if isinstance(doc, dict) and doc.get("kind") in ("dsse", "hashedrekord", "intoto"):
                yield b"\0" + json.dumps(doc).encode()
        yield b"\2" + b"24296fb24b8ad77a"
        yield b"\3" + b"logIndex=0"
        yield b"\4" + b"firstSize=1&lastSize=2"
    elif target == "tile_log_requests":
        for _, doc in json_docs():
            if isinstance(doc, dict) and ("hashedRekordRequestV002" in doc or "dsseRequestV002" in doc):
                yield b"\0" + json.dumps(doc).encode()
        for path in ("checkpoint", "tile/0/000", "tile/0/000.p/1", "tile/entries/000", "tile/1/000"):
            yield b"\1" + path.encode()
        yield b"\3"
    elif target == "key_files":
        for p in files((".pem", ".pub", ".key")):
            yield read(p)
        for _, doc in json_docs():
            for k, v in walk(doc):
                if isinstance(v, dict) and "kty" in v:
                    yield json.dumps(v).encode()
    elif target in ("merkle_inclusion", "merkle_consistency"):
        # transparency-dev/merkle's probes, in the targets' layouts (a size
        # whose low bit is 0 travels as size << 48).
        probes = json.loads(read(os.path.join(
            ROOT, "crates/attest-merkle/tests/vectors/tdev_merkle_probes.json")))["files"]
        def size(n):
            return struct.pack("<Q", n if n & 1 else n << 48)
        def hashes(v):
            return b"".join(base64.b64decode(h) for h in (v or []))
        for name in sorted(probes):
            v = probes[name]
            if target == "merkle_inclusion" and "leafIdx" in v:
                yield (struct.pack("<Q", v["leafIdx"]) + size(v["treeSize"])
                       + base64.b64decode(v["leafHash"] or "") .ljust(32, b"\0")[:32]
                       + base64.b64decode(v["root"] or "").ljust(32, b"\0")[:32]
                       + hashes(v["proof"]))
            elif target == "merkle_consistency" and "size1" in v:
                s1, s2 = v["size1"], v["size2"]
                raw1, raw2 = (s1 << 48, s2 << 48) if s1 < 1 << 16 and s2 < 1 << 16 else (s1 | 1, s2)
                yield (struct.pack("<QQ", raw1, raw2)
                       + base64.b64decode(v["root1"] or "").ljust(32, b"\0")[:32]
                       + base64.b64decode(v["root2"] or "").ljust(32, b"\0")[:32]
                       + hashes(v["proof"]))
    elif target == "compact_range":
        def count(b, e):
            n = 0
            while b < e:
                step = b & -b if b else 1 << 63
                while b + step > e:
                    step >>= 1
                b, n = b + step, n + 1
            return n
        for b, e in ((0, 0), (0, 1), (0, 7), (0, 256), (3, 5), (255, 257), (1, 65537), (0, 2**63)):
            yield struct.pack(">QQ", b, e) + bytes(range(32)) * count(b, e)
    elif target == "tiles_differential":
        # tree sizes at the edges (the size is the first two bytes % 1200 + 1)
        for n in (1, 2, 255, 256, 257, 512, 1023, 1024, 1025, 1199, 1200):
            for level in (0, 1, 2, 255):
                yield struct.pack(">H", n - 1) + bytes([level, 0, 7, 1]) + bytes(range(0, 60, 2))
    elif target == "store_rows":
        # which row, which column, replace (even) or splice at (odd), bytes
        values = [b"", b"\0", b"{}", b"acme", b"https://slsa.dev/provenance/v1", b"\xff" * 8]
        for _, doc in json_docs():
            if isinstance(doc, dict) and {"payload", "payloadType", "signatures"} <= doc.keys():
                values.append(json.dumps(doc).encode())
                break
        for column in range(18):
            for i, v in enumerate(values):
                yield bytes([column % 2, column, (i * 7) % 256]) + v
    elif target == "witness_requests":
        # add-checkpoint bodies with checkpoints signed by the target's log
        # key (Ed25519 seed 11 x 32, C2SP key id), and cosigned notes.
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        except ImportError:
            print("witness_requests: no Python `cryptography`: no signed seeds", file=sys.stderr)
            return
        origin = "example.com/log"
        key = Ed25519PrivateKey.from_private_bytes(bytes([11] * 32))
        pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        key_id = hashlib.sha256(origin.encode() + b"\n\x01" + pub).digest()[:4]
        leaves = []
        for n in range(1, 6):
            leaves.append(hashlib.sha256(b"\0" + b"leaf-%d" % n).digest())
            root = leaves[0] if n == 1 else hashlib.sha256(b"".join(leaves)).digest()
            text = "%s\n%d\n%s\n" % (origin, n, base64.b64encode(root).decode())
            sig = key.sign(text.encode())
            note = text + "\n\u2014 %s %s\n" % (origin, base64.b64encode(key_id + sig).decode())
            yield ("old 0\n\n" + note).encode()
            yield ("old %d\n%s\n\n%s" % (n - 1, base64.b64encode(root).decode(), note)).encode()
            yield note.encode()
    elif target == "portal_requests":
        for line in (
            "G\n/audit/acme/app%40sha256%3A00\n\nT",
            "G\n/audit/acme/app@sha256:00\npage=2&format=json\nT",
            "H\n/audit/acme/app@sha256:00\n\nBasic YWNtZTp4",
            "G\n/.well-known/attestlog/attestation-keys.json\n\n",
            "G\n/attestations/acme/" + "00" * 32 + "/bundle.sigstore.json\n\nT",
            "P\n/audit/other/x\n\nT",
            "G\n/\n\n",
        ):
            yield line.encode()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    targets = sys.argv[2:] or sorted(
        n[:-3] for n in os.listdir(os.path.join(ROOT, "fuzz/fuzz_targets")) if n.endswith(".rs")
    )
    for t in targets:
        d = os.path.join(out, t)
        os.makedirs(d, exist_ok=True)
        n = 0
        for s in seeds(t):
            if not s or len(s) > 1 << 20:
                continue
            name = hashlib.sha256(s).hexdigest()[:16]
            with open(os.path.join(d, name), "wb") as f:
                f.write(s)
            n += 1
        print(f"{t}: {n} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
