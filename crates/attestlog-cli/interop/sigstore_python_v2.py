"""sigstore-python (PyPI `sigstore`) against `attestlog log serve --rekor-api 2`.

Usage: python sigstore_python_v2.py URL TSA_URL TRUSTED_ROOT OUT_DIR

sigstore-python's own Rekor v2 client publishes a message signature and a
DSSE envelope (hashedrekord 0.0.2) to the embedded log; its models parse the
answers; its Merkle code verifies each inclusion proof and its checkpoint
code verifies each checkpoint against the trusted root the log wrote. Its
timestamp client asks the embedded TSA, and rfc3161-client verifies each
token against the TSA root of that trusted root. sigstore-python then
assembles the bundles (v0.3, self-signed certificate), written to OUT_DIR
for `attestlog verify-bundle` to verify.

sigstore-python's `Verifier` itself is not run: it accepts only Fulcio
certificates with embedded SCTs, which this offline setup does not issue.
"""

import base64
import datetime
import hashlib
import sys
from pathlib import Path

import rfc3161_client
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sigstore import dsse
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore._internal.rekor.checkpoint import verify_checkpoint
from sigstore._internal.rekor.client_v2 import RekorV2Client
from sigstore._internal.timestamp import TimestampAuthorityClient
from sigstore._internal.trust import KeyringPurpose
from sigstore.hashes import Hashed
from sigstore.models import Bundle, TrustedRoot
from sigstore_models.common.v1 import HashAlgorithm, MessageSignature
from sigstore_models.intoto import Envelope as _Envelope
from sigstore_models.intoto import Signature as _Signature

url, tsa_url, root_path, out = sys.argv[1:5]
out = Path(out)

name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sigstore-python interop")])
now = datetime.datetime.now(datetime.timezone.utc)


def self_signed(key, hash_alg):
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hash_alg)
    )


def write_public(key, path):
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


key = ec.generate_private_key(ec.SECP256R1())
cert = self_signed(key, hashes.SHA256())
write_public(key, out / "signer.pem")

root = TrustedRoot.from_file(root_path)
keyring = root.rekor_keyring(KeyringPurpose.VERIFY)
tsa_certs = root.get_timestamp_authorities()[0].certificates(allow_expired=True)
rekor = RekorV2Client(url)
tsa = TimestampAuthorityClient(tsa_url)


def checked(entry, what):
    verify_merkle_inclusion(entry)
    verify_checkpoint(keyring, entry)
    print(f"== {what}: logged at index {entry._inner.log_index}; inclusion proof and checkpoint verified by sigstore-python")


def stamped(signature, what):
    ts = tsa.request_timestamp(signature)
    verifier = (
        rfc3161_client.VerifierBuilder()
        .add_root_certificate(tsa_certs[-1])
        .build()
    )
    verifier.verify_message(ts, signature)
    print(f"== {what}: timestamp {ts.tst_info.gen_time} verified by rfc3161-client")
    return ts


# A message signature.
artifact = b"an artifact published by sigstore-python\n"
(out / "artifact.txt").write_bytes(artifact)
signature = key.sign(artifact, ec.ECDSA(hashes.SHA256()))
hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=hashlib.sha256(artifact).digest())
entry = rekor.create_entry(RekorV2Client._build_hashed_rekord_request(hashed, signature, cert))
checked(entry, "message signature")
ts = stamped(signature, "message signature")
bundle = Bundle._from_parts(
    cert, MessageSignature(signature=base64.b64encode(signature)), entry, [ts]
)
(out / "message.sigstore.json").write_text(bundle.to_json())

# A DSSE envelope (an in-toto statement about the artifact).
stmt = (
    dsse.StatementBuilder()
    .subjects([dsse.Subject(name="artifact.txt", digest={"sha256": hashlib.sha256(artifact).hexdigest()})])
    .predicate_type("https://slsa.dev/provenance/v1")
    .predicate({"buildDefinition": {"buildType": "https://example.com/interop"}})
    .build()
)
envelope = dsse._sign(key, stmt)
entry = rekor.create_entry(RekorV2Client._build_dsse_request(envelope, cert))
checked(entry, "DSSE envelope")
ts = stamped(envelope.signature, "DSSE envelope")
bundle = Bundle._from_parts(cert, envelope, entry, [ts])
(out / "dsse.sigstore.json").write_text(bundle.to_json())

# P-384: sigstore-python's client sends the artifact's SHA-384 digest with
# keyDetails PKIX_ECDSA_P384_SHA_384 (the hash follows the key); the DSSE
# envelope is signed with ECDSA-SHA-384 (sigstore-python's own DSSE signer
# always uses SHA-256) and logged with the SHA-384 of its PAE.
key384 = ec.generate_private_key(ec.SECP384R1())
cert384 = self_signed(key384, hashes.SHA384())
write_public(key384, out / "signer384.pem")
signature = key384.sign(artifact, ec.ECDSA(hashes.SHA384()))
hashed = Hashed(algorithm=HashAlgorithm.SHA2_384, digest=hashlib.sha384(artifact).digest())
entry = rekor.create_entry(RekorV2Client._build_hashed_rekord_request(hashed, signature, cert384))
checked(entry, "P-384 message signature (SHA-384 digest)")
ts = stamped(signature, "P-384 message signature")
bundle = Bundle._from_parts(
    cert384, MessageSignature(signature=base64.b64encode(signature)), entry, [ts]
)
(out / "message384.sigstore.json").write_text(bundle.to_json())
pae = stmt._pae()
envelope = dsse.Envelope(
    _Envelope(
        payload=base64.b64encode(stmt._contents),
        payload_type=dsse.Envelope._TYPE,
        signatures=[_Signature(sig=base64.b64encode(key384.sign(pae, ec.ECDSA(hashes.SHA384()))))],
    )
)
entry = rekor.create_entry(RekorV2Client._build_dsse_request(envelope, cert384))
checked(entry, "P-384 DSSE envelope (SHA-384 of the PAE)")
ts = stamped(envelope.signature, "P-384 DSSE envelope")
bundle = Bundle._from_parts(cert384, envelope, entry, [ts])
(out / "dsse384.sigstore.json").write_text(bundle.to_json())

# A P-384 key with a SHA-256 digest (keyDetails say SHA-384) is refused.
try:
    bad = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=hashlib.sha256(artifact).digest())
    rekor.create_entry(
        RekorV2Client._build_hashed_rekord_request(
            bad, key384.sign(artifact, ec.ECDSA(hashes.SHA256())), cert384
        )
    )
    raise SystemExit("the log accepted a SHA-256 digest under P-384 keyDetails")
except SystemExit:
    raise
except Exception as e:  # noqa: BLE001 - the refusal is the expected outcome
    print(f"== a SHA-256 digest under a P-384 key is refused by the log: {type(e).__name__}")

# A checkpoint signed by another key is refused by sigstore-python too.
bad = entry._inner.inclusion_proof.checkpoint.envelope.replace("\n\u2014 ", "\n\u2014 x", 1)
try:
    from sigstore._internal.rekor.checkpoint import SignedNote
    note = SignedNote.from_text(bad.replace(bad.split("\n")[1], str(int(bad.split("\n")[1]) + 1), 1))
    note.verify(keyring, entry._inner.log_id.key_id)
    raise SystemExit("a tampered checkpoint verified")
except Exception as e:  # noqa: BLE001 - any refusal is the expected outcome
    if isinstance(e, SystemExit):
        raise
    print(f"== a tampered checkpoint is refused by sigstore-python: {type(e).__name__}")
