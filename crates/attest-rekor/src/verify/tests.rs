#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn artifacts_know_their_sha256_sha384_and_sha512() {
    let a = Artifact::of_bytes(b"artifact");
    assert_eq!(
        a.digest_for("SHA2_384"),
        Some(&sha2::Sha384::digest(b"artifact")[..])
    );
    assert_eq!(a.digest_for("SHA2_256").map(<[u8]>::len), Some(32));
    assert_eq!(a.digest_for("SHA2_512").map(<[u8]>::len), Some(64));
    assert_eq!(a.digest_for("SHA3_256"), None);
    let hex = base16ct::lower::encode_string(&sha2::Sha384::digest(b"artifact"));
    let parsed = Artifact::parse_digest(&format!("sha384:{hex}")).unwrap();
    assert_eq!(parsed.sha384(), a.sha384());
    assert_eq!(parsed.digest_for("SHA2_256"), None);
    for bad in [
        format!("sha384:{}", &hex[..94]),
        format!("sha384:{hex}00"),
        format!("sha384:{}", "zz".repeat(48)),
    ] {
        assert!(Artifact::parse_digest(&bad).is_err(), "{bad}");
    }
    // An in-toto subject named by its sha384.
    let mut subject = std::collections::BTreeMap::new();
    subject.insert("sha384".to_owned(), hex.to_uppercase());
    assert!(a.named_by(&subject));
    subject.insert("sha384".to_owned(), "00".repeat(48));
    assert!(!a.named_by(&subject));
}
