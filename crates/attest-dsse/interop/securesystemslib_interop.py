"""DSSE interoperability with Python securesystemslib (PyPI), both directions.

    python securesystemslib_interop.py sign DIR     # Python signs; writes keys and envelopes to DIR
    python securesystemslib_interop.py verify DIR   # Python verifies rust-*.envelope.json in DIR

Keys are written as PEM (`<name>.pub.pem`, `<name>.key.pem`, PKCS#8) so the Rust
side can read them; envelopes as `<name>.envelope.json`. Run by run.sh.
"""

import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
PAYLOAD = json.dumps(
    {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "interop.tar.gz", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://example.com/interop/v1",
        "predicate": {"signedBy": "python-securesystemslib"},
    },
    separators=(",", ":"),
).encode()


def sign(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, private in [
        ("python-ed25519", ed25519.Ed25519PrivateKey.generate()),
        ("python-p256", ec.generate_private_key(ec.SECP256R1())),
    ]:
        public = private.public_key()
        (out / f"{name}.key.pem").write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (out / f"{name}.pub.pem").write_bytes(
            public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        signer = CryptoSigner(private, SSlibKey.from_crypto(public, keyid=name))
        env = Envelope(payload=PAYLOAD, payload_type=PAYLOAD_TYPE, signatures={})
        env.sign(signer)
        (out / f"{name}.envelope.json").write_text(json.dumps(env.to_dict()))
        print(f"python signed {name}")


def verify(d: Path) -> None:
    envelopes = sorted(d.glob("rust-*.envelope.json"))
    if not envelopes:
        sys.exit(f"no rust-*.envelope.json in {d}")
    for path in envelopes:
        name = path.name.removesuffix(".envelope.json")
        pem = (d / f"{name}.pub.pem").read_bytes()
        public = serialization.load_pem_public_key(pem)
        key = SSlibKey.from_crypto(public, keyid=json.loads(path.read_text())["signatures"][0]["keyid"])
        env = Envelope.from_dict(json.loads(path.read_text()))
        accepted = env.verify([key], 1)
        assert list(accepted) == [key.keyid], accepted
        assert env.payload_type == PAYLOAD_TYPE, env.payload_type
        # A flipped payload byte must fail there too.
        tampered = json.loads(path.read_text())
        tampered_env = Envelope.from_dict(tampered)
        tampered_env.payload = tampered_env.payload[:-1] + bytes([tampered_env.payload[-1] ^ 1])
        try:
            tampered_env.verify([key], 1)
        except Exception:
            pass
        else:
            sys.exit(f"{name}: tampered envelope verified in Python")
        print(f"python verified {name}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("sign", "verify"):
        sys.exit(__doc__)
    {"sign": sign, "verify": verify}[sys.argv[1]](Path(sys.argv[2]))
