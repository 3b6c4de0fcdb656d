//! Mutation test over every real bundle: each value a signature or proof
//! covers is changed in turn, and verification must fail at the check that
//! covers it. The mutations are generated, not hand-picked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::Timestamp;
use attest_rekor::{Bundle, Check, Outcome, Policy};
use base64ct::{Base64, Encoding};
use serde_json::Value;

mod common;
use common::{BUNDLES, artifact_of, pinned_signer, read, trusted_logs, verifier};

fn flip_b64(s: &str, byte: usize) -> String {
    let mut b = Base64::decode_vec(s).unwrap();
    let i = byte % b.len();
    b[i] ^= 0x01;
    Base64::encode_string(&b)
}

fn bump(s: &str, delta: i64) -> String {
    (s.parse::<i64>().unwrap() + delta).to_string()
}

type Mutation = (String, Box<dyn Fn(&mut Value)>, Vec<Check>);

fn entry(v: &mut Value) -> &mut Value {
    &mut v["verificationMaterial"]["tlogEntries"][0]
}

/// Every mutation of a bundle, with the checks any one of which must fail.
fn mutations(bundle: &Value) -> Vec<Mutation> {
    let e = &bundle["verificationMaterial"]["tlogEntries"][0];
    let v2 = e.get("integratedTime").is_none();
    let mut out: Vec<Mutation> = Vec::new();

    // Every byte position class of the body: first, last, and a spread of
    // positions through it (each changes the leaf hash and the SET message).
    let body_len = Base64::decode_vec(e["canonicalizedBody"].as_str().unwrap())
        .unwrap()
        .len();
    let mut positions: Vec<usize> = (0..body_len).step_by((body_len / 24).max(1)).collect();
    positions.push(body_len - 1);
    for pos in positions {
        let expect = if v2 {
            vec![Check::Inclusion]
        } else {
            vec![Check::Inclusion, Check::Set]
        };
        out.push((
            format!("body byte {pos}"),
            Box::new(move |v| {
                let s = entry(v)["canonicalizedBody"].as_str().unwrap().to_owned();
                entry(v)["canonicalizedBody"] = flip_b64(&s, pos).into();
            }),
            expect,
        ));
    }
    if !v2 {
        let set_len = Base64::decode_vec(
            e["inclusionPromise"]["signedEntryTimestamp"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
        .len();
        for pos in [0, set_len / 2, set_len - 1] {
            out.push((
                format!("SET byte {pos}"),
                Box::new(move |v| {
                    let s = entry(v)["inclusionPromise"]["signedEntryTimestamp"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    entry(v)["inclusionPromise"]["signedEntryTimestamp"] = flip_b64(&s, pos).into();
                }),
                vec![Check::Set],
            ));
        }
        for d in [-1, 1] {
            out.push((
                format!("integratedTime {d:+}"),
                Box::new(move |v| {
                    let s = entry(v)["integratedTime"].as_str().unwrap().to_owned();
                    entry(v)["integratedTime"] = bump(&s, d).into();
                }),
                vec![Check::Set],
            ));
            out.push((
                format!("global logIndex {d:+}"),
                Box::new(move |v| {
                    let s = entry(v)["logIndex"].as_str().unwrap().to_owned();
                    entry(v)["logIndex"] = bump(&s, d).into();
                }),
                vec![Check::Set],
            ));
        }
        out.push((
            "SET removed".into(),
            Box::new(move |v| {
                entry(v).as_object_mut().unwrap().remove("inclusionPromise");
            }),
            vec![Check::Set],
        ));
    }
    if v2 {
        // One index, authenticated only by the proof.
        for d in [-1, 1] {
            out.push((
                format!("v2 logIndex {d:+}"),
                Box::new(move |v| {
                    let s = entry(v)["logIndex"].as_str().unwrap().to_owned();
                    entry(v)["logIndex"] = bump(&s, d).into();
                }),
                vec![Check::Inclusion],
            ));
        }
    }
    for d in [-1, 1] {
        out.push((
            format!("shard logIndex {d:+}"),
            Box::new(move |v| {
                let s = entry(v)["inclusionProof"]["logIndex"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                entry(v)["inclusionProof"]["logIndex"] = bump(&s, d).into();
            }),
            vec![Check::Inclusion],
        ));
        out.push((
            format!("treeSize {d:+}"),
            Box::new(move |v| {
                let s = entry(v)["inclusionProof"]["treeSize"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                entry(v)["inclusionProof"]["treeSize"] = bump(&s, d).into();
            }),
            vec![Check::CheckpointBinding],
        ));
    }
    let n_hashes = e["inclusionProof"]["hashes"].as_array().unwrap().len();
    for i in 0..n_hashes {
        out.push((
            format!("proof hash {i}"),
            Box::new(move |v| {
                let s = entry(v)["inclusionProof"]["hashes"][i]
                    .as_str()
                    .unwrap()
                    .to_owned();
                entry(v)["inclusionProof"]["hashes"][i] = flip_b64(&s, 31).into();
            }),
            vec![Check::Inclusion],
        ));
    }
    out.push((
        "proof hash added".into(),
        Box::new(move |v| {
            let h = entry(v)["inclusionProof"]["rootHash"].clone();
            entry(v)["inclusionProof"]["hashes"]
                .as_array_mut()
                .unwrap()
                .push(h);
        }),
        vec![Check::Inclusion],
    ));
    out.push((
        "root hash".into(),
        Box::new(move |v| {
            let s = entry(v)["inclusionProof"]["rootHash"]
                .as_str()
                .unwrap()
                .to_owned();
            entry(v)["inclusionProof"]["rootHash"] = flip_b64(&s, 0).into();
        }),
        vec![Check::CheckpointBinding],
    ));
    out.push((
        "inclusion proof removed".into(),
        Box::new(move |v| {
            entry(v).as_object_mut().unwrap().remove("inclusionProof");
        }),
        vec![Check::Inclusion],
    ));

    // Checkpoint text (each of its lines), signature bytes and key hint.
    let note = e["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .to_owned();
    let text_len = note.rfind("\n\n").unwrap();
    for line in 0..note[..text_len].lines().count() {
        out.push((
            format!("checkpoint text line {line}"),
            Box::new(move |v| {
                let n = entry(v)["inclusionProof"]["checkpoint"]["envelope"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let (text, sigs) = n.split_at(n.rfind("\n\n").unwrap());
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                let l = &mut lines[line];
                let c = l.pop().unwrap();
                l.push(if c == 'A' { 'B' } else { 'A' });
                entry(v)["inclusionProof"]["checkpoint"]["envelope"] =
                    format!("{}{sigs}", lines.join("\n")).into();
            }),
            vec![Check::CheckpointSignature, Check::CheckpointBinding],
        ));
    }
    for (what, byte) in [
        ("checkpoint key hint", 0usize),
        ("checkpoint signature", 20),
    ] {
        out.push((
            what.into(),
            Box::new(move |v| {
                let n = entry(v)["inclusionProof"]["checkpoint"]["envelope"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let split = n.rfind("\n\n").unwrap() + 2;
                let (text, sigs) = n.split_at(split);
                let first = sigs.lines().next().unwrap();
                let (prefix, b64) = first.rsplit_once(' ').unwrap();
                let changed = format!("{prefix} {}", flip_b64(b64, byte));
                let rest: String = sigs.lines().skip(1).map(|l| format!("{l}\n")).collect();
                entry(v)["inclusionProof"]["checkpoint"]["envelope"] =
                    format!("{text}{changed}\n{rest}").into();
            }),
            vec![Check::CheckpointSignature],
        ));
    }
    out.push((
        "logId".into(),
        Box::new(move |v| {
            let s = entry(v)["logId"]["keyId"].as_str().unwrap().to_owned();
            entry(v)["logId"]["keyId"] = flip_b64(&s, 5).into();
        }),
        vec![Check::LogKey],
    ));

    // The signed content itself.
    if bundle.get("dsseEnvelope").is_some() {
        out.push((
            "envelope payload".into(),
            Box::new(|v| {
                let s = v["dsseEnvelope"]["payload"].as_str().unwrap().to_owned();
                v["dsseEnvelope"]["payload"] = flip_b64(&s, 10).into();
            }),
            vec![Check::Signature, Check::BodyMatch],
        ));
        out.push((
            "envelope signature".into(),
            Box::new(|v| {
                let s = v["dsseEnvelope"]["signatures"][0]["sig"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                v["dsseEnvelope"]["signatures"][0]["sig"] = flip_b64(&s, 12).into();
            }),
            vec![Check::Signature, Check::BodyMatch],
        ));
        out.push((
            "envelope payloadType".into(),
            Box::new(|v| {
                v["dsseEnvelope"]["payloadType"] = "application/json".into();
            }),
            vec![Check::Signature, Check::BodyMatch],
        ));
    } else {
        out.push((
            "message digest".into(),
            Box::new(|v| {
                let s = v["messageSignature"]["messageDigest"]["digest"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                v["messageSignature"]["messageDigest"]["digest"] = flip_b64(&s, 3).into();
            }),
            vec![Check::Signature, Check::BodyMatch],
        ));
        out.push((
            "message signature".into(),
            Box::new(|v| {
                let s = v["messageSignature"]["signature"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                v["messageSignature"]["signature"] = flip_b64(&s, 12).into();
            }),
            vec![Check::Signature, Check::BodyMatch],
        ));
    }
    out
}

fn failed_checks(r: &attest_rekor::Report) -> Vec<Check> {
    r.checks
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .map(|c| c.check)
        .collect()
}

#[test]
fn every_covered_field_is_checked() {
    let logs = trusted_logs();
    let mut total = 0;
    for name in BUNDLES {
        let original: Value = serde_json::from_slice(&read(name)).unwrap();
        let parsed = Bundle::from_json(original.to_string().as_bytes()).unwrap();
        let policy = Policy::new(pinned_signer(&parsed), Timestamp::now());
        let artifact = artifact_of(&parsed);
        // Rekor v1 bundles verify; the Rekor v2 one lacks only a time (RFC
        // 3161 is another issue), so its log evidence is still mutated.
        let baseline = match verifier(&logs).verify(&parsed, &artifact, &policy) {
            Ok(_) => Vec::new(),
            Err(e) => failed_checks(&e.report),
        };
        assert!(
            baseline.is_empty() || baseline == [Check::Time],
            "{name}: {baseline:?}"
        );
        for (what, mutate, expected) in mutations(&original) {
            let mut v = original.clone();
            mutate(&mut v);
            let bundle = match Bundle::from_json(v.to_string().as_bytes()) {
                Ok(b) => b,
                Err(e) => panic!("{name}: {what}: mutated bundle does not parse: {e}"),
            };
            let report = match verifier(&logs).verify(&bundle, &artifact, &policy) {
                Ok(_) => panic!("{name}: {what} still verifies"),
                Err(e) => e.report,
            };
            let failed = failed_checks(&report);
            assert!(
                expected.iter().any(|c| failed.contains(c)),
                "{name}: {what}: expected a failure of {expected:?}, got {}",
                serde_json::to_string(&report).unwrap()
            );
            total += 1;
        }
    }
    assert!(total > 150, "only {total} mutations");
}
