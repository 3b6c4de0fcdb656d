"""sigstore-python (PyPI `sigstore`) against `attestlog log serve --api 2`.

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

url, tsa_url, root_path, out = sys.argv[1:5]
out = Path(out)

key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sigstore-python interop")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(minutes=5))
    .not_valid_after(now + datetime.timedelta(days=1))
    .sign(key, hashes.SHA256())
)
(out / "signer.pem").write_bytes(
    key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
)

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
