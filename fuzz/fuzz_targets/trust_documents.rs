//! Trust documents (trusted roots, signing configs, client trust
//! configurations) never panic on arbitrary bytes, and what is accepted is
//! written back (`to_json`) to a document that reads as the same trust.
#![no_main]

use attest_rekor::{ClientTrustConfig, TrustDocument, TrustedRoot};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = TrustDocument::from_json(data) else {
        return;
    };
    match doc {
        TrustDocument::SigningConfig(c) => {
            let again =
                attest_rekor::signing::SigningConfig::from_json(c.to_json().to_string().as_bytes())
                    .expect("a written signing config reads back");
            assert_eq!(again, c);
        }
        TrustDocument::TrustedRoot(r) => {
            let again =
                TrustedRoot::from_json(&r.to_json_vec()).expect("a written root reads back");
            assert_eq!(again.logs().len(), r.logs().len());
        }
        TrustDocument::ClientTrustConfig(t) => {
            let again = ClientTrustConfig::from_json(t.to_json().to_string().as_bytes())
                .expect("a written client trust configuration reads back");
            assert_eq!(again.signing_config, t.signing_config);
            assert_eq!(again.trusted_root.logs().len(), t.trusted_root.logs().len());
        }
        _ => {}
    }
});
