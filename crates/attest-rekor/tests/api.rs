//! REST API types: a real entry in its REST form parses, converts and verifies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::Timestamp;
use attest_rekor::verify::report_of;
use attest_rekor::{
    Bundle, Check, LogEntry, LogInfo, Outcome, Policy, ProposedEntry, SignerPolicy, TrustedRoot,
    Verifier,
};
use serde_json::{Value, json};

use attestlog_testkit::vector as read;

/// The production dsse entry as `GET /api/v1/log/entries/{id}` returns it,
/// with members a newer Rekor might add (they are tolerated).
fn rest_form(bundle: &Value) -> Value {
    let mut v = attestlog_testkit::rest_entry(bundle, "24296fb24b8ad77a");
    let entry = v.as_object_mut().unwrap().values_mut().next().unwrap();
    entry["attestation"] = json!({});
    entry["verification"]["inclusionProof"]["someFutureField"] = json!(true);
    v
}

#[test]
fn a_real_entry_in_rest_form_verifies() {
    let raw: Value = serde_json::from_slice(&read("prod-v1-dsse-v001.sigstore.json")).unwrap();
    let bundle = Bundle::from_json(&read("prod-v1-dsse-v001.sigstore.json")).unwrap();
    let env = bundle.envelope().unwrap().unwrap();
    let key =
        attest_rekor::x509::certificate_public_key(&bundle.certificate_der().unwrap().unwrap())
            .unwrap();
    let rest = rest_form(&raw).to_string();
    let entry = LogEntry::from_json(rest.as_bytes()).unwrap();
    assert_eq!(entry.log_index, 155_690_850, "global index");
    assert_eq!(
        entry.inclusion_proof.as_ref().unwrap().log_index,
        33_786_588,
        "shard-local index"
    );
    assert_eq!(
        entry.id.uuid().to_string(),
        "875d33538d49eb9bc3224c4868c25d06f78f566730771c4437f50962530906ae"
    );
    assert_eq!(
        LogEntry::from_json(entry.to_json().as_bytes()).unwrap(),
        entry
    );
    let verifier = Verifier::new(TrustedRoot::from_json(&read("trusted_root.json")).unwrap());
    let policy = Policy::new(SignerPolicy::Key(key), Timestamp::now());
    let v = verifier
        .verify_log_entry(&entry, &env, &policy)
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.report));
    assert_eq!(v.report.outcome(Check::Set), Some(Outcome::Passed));
    assert_eq!(v.times[0].at.unix(), entry.integrated_time);
    assert_eq!(v.artifact, None, "the envelope itself was named");
    // Claimed times: the log's time confirms a claim within the window, not an earlier one.
    let t = entry.integrated_time;
    for (claimed, ok) in [(t, true), (t - 60, true), (t - 3600, false), (t + 1, false)] {
        let policy = policy.clone().with_claimed_time(claimed, 300);
        let r = verifier.verify_log_entry(&entry, &env, &policy);
        assert_eq!(r.is_ok(), ok, "claimed {claimed}");
        assert_eq!(
            report_of(&r).outcome(Check::NotBackdated) == Some(Outcome::Passed),
            ok,
            "claimed {claimed}"
        );
    }
    // integratedTime in the verifier's future fails that check.
    let past = policy.clone().with_now(Timestamp::from_unix(t - 1));
    let e = verifier.verify_log_entry(&entry, &env, &past).unwrap_err();
    assert_eq!(e.first.check, Check::IntegratedTime);
}

#[test]
fn malformed_rest_entries() {
    assert!(LogEntry::from_json(b"{}").is_err());
    assert!(LogEntry::from_json(b"[]").is_err());
    let two = json!({"a": {}, "b": {}}).to_string();
    assert!(LogEntry::from_json(two.as_bytes()).is_err());
    let bad_id =
        json!({"xyz": {"body": "e30=", "integratedTime": 1, "logID": "00", "logIndex": 1}})
            .to_string();
    assert!(LogEntry::from_json(bad_id.as_bytes()).is_err());
    let negative = json!({"24296fb24b8ad77a875d33538d49eb9bc3224c4868c25d06f78f566730771c4437f50962530906ae": {"body": "e30=", "integratedTime": 1, "logID": "00", "logIndex": -1}}).to_string();
    assert!(LogEntry::from_json(negative.as_bytes()).is_err());
}

#[test]
fn log_info_and_proposals() {
    let info = json!({
        "rootHash": "ab".repeat(32), "treeSize": 10, "signedTreeHead": "x", "treeID": "1193050959916656506",
        "inactiveShards": [{"rootHash": "cd".repeat(32), "treeSize": 5, "signedTreeHead": "y", "treeID": "2605736670972794746"}],
        "unknown": 1
    });
    let info: LogInfo = serde_json::from_value(info).unwrap();
    assert_eq!(info.inactive_shards[0].tree_size, 5);
    let p = ProposedEntry::dsse(
        r#"{"payload":"e30="}"#,
        &["-----BEGIN PUBLIC KEY-----\n".into()],
    );
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(
        v["spec"]["proposedContent"]["envelope"], r#"{"payload":"e30="}"#,
        "the envelope is a JSON string"
    );
    assert_eq!(v["apiVersion"], "0.0.1");
}
