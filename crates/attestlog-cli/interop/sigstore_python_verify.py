"""sigstore-python's own Verifier on Rekor v2 bundles our client made.

    python sigstore_python_verify.py TRUSTED_ROOT IDENTITY ISSUER ARTIFACT MESSAGE_BUNDLE DSSE_BUNDLE

The bundles carry a certificate from the offline test CA
(`attestlog rekor-v2 test-ca`), a hashedrekord 0.0.2 entry from the
embedded v2 log with its inclusion proof and checkpoint, and an RFC 3161
timestamp from the embedded TSA. Each must verify under the identity policy;
another artifact, another identity, another issuer, and a trusted root
without the test CA must each be refused.
"""

import sys

from sigstore.errors import Error as SigstoreError
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy


def main() -> None:
    root_path, identity, issuer, artifact_path, message_path, dsse_path = sys.argv[1:7]
    verifier = Verifier(trusted_root=TrustedRoot.from_file(root_path))
    artifact = open(artifact_path, "rb").read()
    message = Bundle.from_json(open(message_path).read())
    dsse = Bundle.from_json(open(dsse_path).read())
    who = policy.Identity(identity=identity, issuer=issuer)

    verifier.verify_artifact(artifact, message, who)
    print("== sigstore-python Verifier.verify_artifact: our v2 message bundle verified")
    payload_type, payload = verifier.verify_dsse(dsse, who)
    assert payload_type == "application/vnd.in-toto+json", payload_type
    assert b'"_type"' in payload
    print("== sigstore-python Verifier.verify_dsse: our v2 DSSE bundle verified")

    def refused(what, f):
        try:
            f()
        except (SigstoreError, ValueError) as e:
            print(f"== refused as it must be ({what}): {type(e).__name__}")
            return
        raise SystemExit(f"sigstore-python accepted {what}")

    refused("another artifact", lambda: verifier.verify_artifact(artifact + b"x", message, who))
    refused(
        "another identity",
        lambda: verifier.verify_artifact(
            artifact, message, policy.Identity(identity="eve@attestlog.test", issuer=issuer)
        ),
    )
    refused(
        "another issuer",
        lambda: verifier.verify_dsse(
            dsse, policy.Identity(identity=identity, issuer="https://evil.example")
        ),
    )
    without_ca = sys.argv[7] if len(sys.argv) > 7 else None
    if without_ca:
        refused(
            "a trusted root without the test CA",
            lambda: Verifier(trusted_root=TrustedRoot.from_file(without_ca)).verify_artifact(
                artifact, message, who
            ),
        )


if __name__ == "__main__":
    main()
