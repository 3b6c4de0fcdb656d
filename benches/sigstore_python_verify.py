"""Times sigstore-python's offline verification of the production DSSE bundle
that attestlog's `rekor` bench verifies, on the same machine. Run by
sigstore-python-verify.sh.

Like attestlog's `bundle_verify/prod_dsse_keyless`, it verifies the Fulcio
certificate chain, the SCT and the identity (the same workflow identity and
OIDC issuer). The managed-key hashedrekord bundle is not timed:
sigstore-python's Verifier verifies certificate-bearing bundles only.
"""

import json
import logging
import sys
import time
from pathlib import Path

from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy

logging.disable(logging.WARNING)
IDENTITY = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"

vectors = Path(sys.argv[1])
verifier = Verifier(trusted_root=TrustedRoot.from_file(str(vectors / "trusted_root.json")))
bundle = Bundle.from_json((vectors / "prod-v1-dsse-v001.sigstore.json").read_bytes())


def verify():
    verifier.verify_dsse(bundle, policy.Identity(identity=IDENTITY, issuer=ISSUER))


verify()  # warm up, and fail loudly if it does not verify
n = 300
start = time.perf_counter()
for _ in range(n):
    verify()
secs = (time.perf_counter() - start) / n
print(json.dumps({"bundle": "prod_dsse_keyless", "verifier": "sigstore-python", "microseconds_per_verify": round(secs * 1e6, 1)}))
