"""Reads attestlog's exported bundles with the PyPI `sigstore` package.

Usage: python sigstore_python_bundle.py HINT_BUNDLE CERT_BUNDLE

- The certificate bundle must pass `sigstore.models.Bundle.from_json`, whose
  checks include the single tlog entry, its kind version, and an inclusion
  proof with a checkpoint; sigstore-python's own Merkle code must then verify
  the entry's inclusion proof against the entry's root hash.
- The public-key-hint bundle must pass the protobuf-model parser that
  `Bundle.from_json` runs first (`sigstore_models.bundle.v1.Bundle`);
  `sigstore.models.Bundle.from_json` itself refuses v0.3 bundles without a
  certificate, and we pin that exact refusal so a release that accepts them
  is noticed.
"""

import sys
from pathlib import Path

from sigstore.models import Bundle, InvalidBundle
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore_models.bundle.v1 import Bundle as ModelBundle

hint_path, cert_path = (Path(p) for p in sys.argv[1:3])

cert_bundle = Bundle.from_json(cert_path.read_bytes())
entry = cert_bundle.log_entry
verify_merkle_inclusion(entry)
print(f"sigstore.models.Bundle.from_json: ok ({cert_path.name}); inclusion proof verified by sigstore-python")

model = ModelBundle.from_json(hint_path.read_bytes())
assert model.verification_material.public_key.hint, "public-key hint lost"
print(f"sigstore_models Bundle.from_json: ok ({hint_path.name}, public-key hint {model.verification_material.public_key.hint[:16]}...)")
try:
    Bundle.from_json(hint_path.read_bytes())
    print("sigstore.models.Bundle.from_json now accepts public-key bundles too")
except InvalidBundle as e:
    assert str(e) == "expected certificate in bundle", e
    print("sigstore.models.Bundle.from_json: refuses key-hint bundles (needs a certificate), as pinned")
