#!/usr/bin/env python3
"""Writes cosignature_v1.json: C2SP tlog-cosignature v1 (Ed25519) known
answers, computed from the spec's text with Python's `cryptography`
(OpenSSL's Ed25519), independently of the Rust code they test.

    python3 make_vectors.py > cosignature_v1.json
"""
import base64
import hashlib
import json
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def witness(name, seed, time, text):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + pub).digest()[:4]
    message = b"cosignature/v1\n" + b"time %d\n" % time + text.encode()
    sig = key.sign(message)
    blob = key_id + struct.pack(">Q", time) + sig
    return {
        "name": name,
        "seed_hex": seed.hex(),
        "public_key_hex": pub.hex(),
        "key_id_hex": key_id.hex(),
        "vkey": "%s+%s+%s" % (name, key_id.hex(), base64.b64encode(b"\x04" + pub).decode()),
        "time": time,
        "checkpoint": text,
        "message": message.decode(),
        "line": "\u2014 %s %s" % (name, base64.b64encode(blob).decode()),
    }


print(json.dumps({
    "_about": "C2SP tlog-cosignature v1 (Ed25519) known answers made by make_vectors.py "
              "(Python cryptography) from the spec's definitions, not by the code under test.",
    "spec_example": {
        "note": CHECKPOINT + "\n"
        "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n",
        "witness_time": 1679315147,
        "witness_key_id_hex": "8d66cf3f",
    },
    "cosignatures": [
        witness("witness.example.com/w1", bytes(range(32)), 1679315147, CHECKPOINT),
        witness("attestlog.test/w2", bytes([7] * 32), 1796601600,
                "attestlog.local - 42\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next line\n"),
    ],
}, indent=2, ensure_ascii=False))
