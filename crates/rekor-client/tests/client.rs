//! The client over scripted transports: retries exactly what it should,
//! types the rest, follows 409s, and never returns an entry that does not verify.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::{Arc, Mutex};
use std::time::Duration;

use attest_dsse::{Envelope, PublicKey, Timestamp};
use attest_rekor::sansio::ResponseError;
use attest_rekor::{Bundle, TrustedRoot};
use attestlog_testkit::vector as read;
use base64ct::{Base64, Encoding};
use http::{Request, Response};
use rekor_client::{ClientError, RekorClient, RetryPolicy};
use serde_json::{Value, json};

type Step = Result<Response<Vec<u8>>, std::io::Error>;

struct Script {
    steps: Mutex<Vec<Step>>,
    seen: Mutex<Vec<(String, String)>>,
}

fn response(status: u16, body: impl Into<Vec<u8>>) -> Step {
    Ok(Response::builder()
        .status(status)
        .body(body.into())
        .unwrap())
}

fn with_header(status: u16, name: &str, value: &str, body: &str) -> Step {
    Ok(Response::builder()
        .status(status)
        .header(name, value)
        .body(body.as_bytes().to_vec())
        .unwrap())
}

fn io(kind: std::io::ErrorKind) -> Step {
    Err(std::io::Error::new(kind, "scripted"))
}

struct Fixture {
    env: Envelope,
    signer: PublicKey,
    rest: Value,
    uuid: String,
}

fn fixture() -> Fixture {
    let raw: Value = serde_json::from_slice(&read("prod-v1-dsse-v001.sigstore.json")).unwrap();
    let bundle = Bundle::from_json(&read("prod-v1-dsse-v001.sigstore.json")).unwrap();
    let env = bundle.envelope().unwrap().unwrap();
    let signer =
        attest_rekor::x509::certificate_public_key(&bundle.certificate_der().unwrap().unwrap())
            .unwrap();
    let rest = attestlog_testkit::rest_entry(&raw, "24296fb24b8ad77a");
    let uuid = rest.as_object().unwrap().keys().next().unwrap()[16..].to_owned();
    Fixture {
        env,
        signer,
        rest,
        uuid,
    }
}

fn client(
    steps: Vec<Step>,
) -> (
    RekorClient<impl rekor_client::Transport>,
    Arc<Script>,
    Arc<Mutex<Vec<Duration>>>,
) {
    let script = Arc::new(Script {
        steps: Mutex::new(steps.into_iter().rev().collect()),
        seen: Mutex::new(vec![]),
    });
    let s = Arc::clone(&script);
    let transport = move |req: Request<Vec<u8>>,
                          _timeout: Duration|
          -> Result<Response<Vec<u8>>, std::io::Error> {
        s.seen
            .lock()
            .unwrap()
            .push((req.method().to_string(), req.uri().to_string()));
        assert!(req.headers().get("user-agent").is_some());
        s.steps
            .lock()
            .unwrap()
            .pop()
            .expect("the client sent more requests than scripted")
    };
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let sl = Arc::clone(&sleeps);
    let logs = TrustedRoot::from_json(&read("trusted_root.json"))
        .map(TrustedRoot::into_logs)
        .unwrap();
    let c = RekorClient::new("https://rekor.example/", transport, logs)
        .with_retry(RetryPolicy::default().with_max_attempts(5))
        .with_sleep(move |d| sl.lock().unwrap().push(d));
    (c, script, sleeps)
}

#[test]
fn publish_returns_a_verified_entry() {
    let f = fixture();
    let (c, script, _) = client(vec![response(201, f.rest.to_string())]);
    let p = c.publish_dsse(&f.env, &f.signer).unwrap();
    assert!(!p.already_existed);
    assert!(p.verified.report.all_passed());
    assert_eq!(p.entry.log_index, 155_690_850);
    assert_eq!(
        script.seen.lock().unwrap()[0],
        (
            "POST".into(),
            "https://rekor.example/api/v1/log/entries".into()
        )
    );
}

#[test]
fn conflict_fetches_and_verifies_the_existing_entry() {
    let f = fixture();
    let location = format!("/api/v1/log/entries/24296fb24b8ad77a{}", f.uuid);
    let (c, script, _) = client(vec![
        with_header(
            409,
            "location",
            &location,
            r#"{"code":409,"message":"an equivalent entry already exists"}"#,
        ),
        response(200, f.rest.to_string()),
    ]);
    let p = c.publish_dsse(&f.env, &f.signer).unwrap();
    assert!(p.already_existed);
    assert_eq!(
        script.seen.lock().unwrap()[1].1,
        format!("https://rekor.example{location}")
    );
}

/// A 409 whose `Location` names another origin is never followed: the
/// client stops with a URL error instead of fetching from that host.
#[test]
fn a_location_on_another_origin_is_not_followed() {
    let f = fixture();
    for location in [
        format!("https://attacker.example/api/v1/log/entries/{}", f.uuid),
        format!("http://rekor.example/api/v1/log/entries/{}", f.uuid), // other scheme
        format!("https://rekor.example:8443/api/v1/log/entries/{}", f.uuid), // other port
    ] {
        let (c, script, _) = client(vec![
            with_header(
                409,
                "location",
                &location,
                r#"{"code":409,"message":"exists"}"#,
            ),
            response(200, f.rest.to_string()),
        ]);
        match c.publish_dsse(&f.env, &f.signer) {
            Err(ClientError::Url(attest_rekor::sansio::UrlError::OtherOrigin { .. })) => {}
            other => panic!("{location}: {other:?}"),
        }
        assert_eq!(script.seen.lock().unwrap().len(), 1, "nothing fetched");
    }
    // The same origin written out in full is followed.
    let location = format!("https://rekor.example/api/v1/log/entries/{}", f.uuid);
    let (c, _, _) = client(vec![
        with_header(
            409,
            "location",
            &location,
            r#"{"code":409,"message":"exists"}"#,
        ),
        response(200, f.rest.to_string()),
    ]);
    assert!(c.publish_dsse(&f.env, &f.signer).unwrap().already_existed);
}

/// A base URL that is not http(s) with a host is a typed error, never a
/// request to `/`.
#[test]
fn an_unusable_base_url_is_an_error() {
    for base in [
        "rekor.example",
        "ftp://rekor.example",
        "https://",
        "not a url",
    ] {
        let c = RekorClient::new(
            base,
            |_req: Request<Vec<u8>>, _t: Duration| -> Step { panic!("no request may be sent") },
            vec![],
        );
        match c.get_entry_by_index(0) {
            Err(ClientError::Url(_)) => {}
            other => panic!("{base}: {other:?}"),
        }
    }
}

#[test]
fn retries_exactly_what_it_should() {
    let f = fixture();
    // Connection reset, timeout, 500, 502, 503 … then success.
    let (c, script, sleeps) = client(vec![
        io(std::io::ErrorKind::ConnectionReset),
        io(std::io::ErrorKind::TimedOut),
        response(500, ""),
        with_header(503, "retry-after", "7", ""),
        response(201, f.rest.to_string()),
    ]);
    assert!(c.publish_dsse(&f.env, &f.signer).is_ok());
    assert_eq!(script.seen.lock().unwrap().len(), 5);
    let sleeps = sleeps.lock().unwrap();
    assert_eq!(sleeps.len(), 4);
    assert_eq!(sleeps[3], Duration::from_secs(7), "Retry-After honoured");

    // 429 with Retry-After, then 502 again, then 201.
    let (c, _, sleeps) = client(vec![
        with_header(429, "retry-after", "3", ""),
        response(502, ""),
        response(201, f.rest.to_string()),
    ]);
    assert!(c.publish_dsse(&f.env, &f.signer).is_ok());
    assert_eq!(sleeps.lock().unwrap()[0], Duration::from_secs(3));

    // Other 4xx: never retried, typed, not retryable.
    for status in [400, 401, 403, 413, 422] {
        let (c, script, _) = client(vec![response(
            status,
            r#"{"code":605,"message":"validation failed"}"#,
        )]);
        let err = c.publish_dsse(&f.env, &f.signer).unwrap_err();
        assert_eq!(script.seen.lock().unwrap().len(), 1, "{status}");
        assert!(!err.is_retryable(), "{status}");
        match err {
            ClientError::Response {
                source:
                    ResponseError::Status {
                        status: s,
                        code,
                        message,
                    },
                ..
            } => {
                assert_eq!(
                    (s, code, message.as_str()),
                    (status, Some(605), "validation failed")
                );
            }
            other => panic!("{status}: {other}"),
        }
    }

    // Persistent 503: gives up after max_attempts, retryable.
    let (c, script, _) = client((0..5).map(|_| response(503, "")).collect());
    let err = c.publish_dsse(&f.env, &f.signer).unwrap_err();
    assert_eq!(script.seen.lock().unwrap().len(), 5);
    assert!(err.is_retryable());
    // Persistent connection errors likewise.
    let (c, _, _) = client(
        (0..5)
            .map(|_| io(std::io::ErrorKind::ConnectionRefused))
            .collect(),
    );
    let err = c.publish_dsse(&f.env, &f.signer).unwrap_err();
    assert!(matches!(err, ClientError::Transport { attempts: 5, .. }) && err.is_retryable());
}

#[test]
fn truncated_and_garbage_bodies_are_typed_errors() {
    let f = fixture();
    let full = f.rest.to_string();
    for body in [
        full[..full.len() / 2].to_string(),
        "<html>gateway</html>".into(),
        "{}".into(),
        "[]".into(),
    ] {
        let (c, script, _) = client(vec![response(201, body.clone())]);
        let err = c.publish_dsse(&f.env, &f.signer).unwrap_err();
        assert!(
            matches!(
                err,
                ClientError::Response {
                    source: ResponseError::Malformed(_),
                    ..
                }
            ),
            "{body}: {err}"
        );
        assert!(!err.is_retryable());
        assert_eq!(script.seen.lock().unwrap().len(), 1);
    }
    // 404 on a fetch has no body and is NotFound.
    let (c, _, _) = client(vec![response(404, "")]);
    let id = attest_rekor::EntryId::parse(&f.uuid).unwrap();
    assert!(matches!(
        c.get_entry(&id),
        Err(ClientError::Response {
            source: ResponseError::NotFound,
            ..
        })
    ));
    // A 409 without Location is malformed.
    let (c, _, _) = client(vec![response(409, "")]);
    assert!(matches!(
        c.publish_dsse(&f.env, &f.signer),
        Err(ClientError::Response {
            source: ResponseError::Malformed(_),
            ..
        })
    ));
}

type Lie = (&'static str, Box<dyn Fn(&mut Value)>);

/// A lying log: each lie makes the client refuse the entry.
#[test]
fn a_lying_log_never_yields_a_verified_entry() {
    let f = fixture();
    let key = f.rest.as_object().unwrap().keys().next().unwrap().clone();
    let lies: Vec<Lie> = vec![
        (
            "wrong proof hash",
            Box::new(|e: &mut Value| {
                let h = e["verification"]["inclusionProof"]["hashes"][0]
                    .as_str()
                    .unwrap()
                    .replace('a', "b")
                    .replace('0', "1");
                e["verification"]["inclusionProof"]["hashes"][0] = h.into();
            }),
        ),
        (
            "root not the checkpoint's",
            Box::new(|e: &mut Value| {
                e["verification"]["inclusionProof"]["rootHash"] = "ab".repeat(32).into();
            }),
        ),
        (
            "SET over another integratedTime",
            Box::new(|e: &mut Value| {
                let t = e["integratedTime"].as_i64().unwrap();
                e["integratedTime"] = (t + 1).into();
            }),
        ),
        (
            "SET over another index",
            Box::new(|e: &mut Value| {
                let i = e["logIndex"].as_u64().unwrap();
                e["logIndex"] = (i + 1).into();
            }),
        ),
        (
            "checkpoint signed by another key",
            Box::new(|e: &mut Value| {
                let cp = e["verification"]["inclusionProof"]["checkpoint"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let (text, sig) = cp.rsplit_once(' ').unwrap();
                let mut blob = Base64::decode_vec(sig.trim_end()).unwrap();
                let n = blob.len();
                blob[n - 5] ^= 1;
                e["verification"]["inclusionProof"]["checkpoint"] =
                    format!("{text} {}\n", Base64::encode_string(&blob)).into();
            }),
        ),
    ];
    for (what, lie) in lies {
        let mut rest = f.rest.clone();
        lie(&mut rest[&key]);
        let (c, _, _) = client(vec![response(201, rest.to_string())]);
        let err = c.publish_dsse(&f.env, &f.signer).unwrap_err();
        assert!(matches!(err, ClientError::Verification(_)), "{what}: {err}");
        assert!(!err.is_retryable(), "{what}");
    }
    // An entry id that is not the body's leaf hash.
    let mut rest = serde_json::Map::new();
    rest.insert(
        format!("24296fb24b8ad77a{}", "ab".repeat(32)),
        f.rest[&key].clone(),
    );
    let (c, _, _) = client(vec![response(201, Value::Object(rest).to_string())]);
    assert!(matches!(
        c.publish_dsse(&f.env, &f.signer),
        Err(ClientError::Verification(_))
    ));
    // A body for a different envelope.
    let other = Envelope::sign("application/vnd.in-toto+json", b"{}".to_vec(), &[]).unwrap();
    let (c, _, _) = client(vec![response(201, f.rest.to_string())]);
    assert!(matches!(
        c.publish_dsse(&other, &f.signer),
        Err(ClientError::Verification(_))
    ));
    // integratedTime in the client's future.
    let (c, _, _) = client(vec![response(201, f.rest.to_string())]);
    let c = c.with_clock(|| Timestamp::from_unix(1_600_000_000));
    assert!(matches!(
        c.publish_dsse(&f.env, &f.signer),
        Err(ClientError::Verification(_))
    ));
}

#[test]
fn retrieve_batches_by_ten() {
    let f = fixture();
    let ids: Vec<_> = (0..23)
        .map(|_| attest_rekor::EntryId::parse(&f.uuid).unwrap())
        .collect();
    let page = |n: usize| response(200, Value::Array(vec![f.rest.clone(); n]).to_string());
    let (c, script, _) = client(vec![page(10), page(10), page(3)]);
    assert_eq!(c.retrieve(&ids).unwrap().len(), 23);
    assert_eq!(script.seen.lock().unwrap().len(), 3);
}

#[test]
fn log_info_and_consistency_are_verified() {
    use attest_dsse::{Algorithm, SigningKey};
    use attest_merkle::{Checkpoint, MerkleTree};
    use attest_rekor::{SignedNote, TrustedLog};

    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let log = TrustedLog::rekor_v1("https://log.example", key.public_key().clone());
    let mut tree = MerkleTree::new();
    for i in 0u32..40 {
        tree.push(&i.to_be_bytes());
    }
    let note = |size: u64| {
        let text = Checkpoint::new("log.example - 7", size, tree.root_at(size).unwrap())
            .unwrap()
            .to_string();
        SignedNote::sign(&text, "log.example", log.note_verifier().key_id(), &key)
            .unwrap()
            .to_text()
    };
    let info = |size: u64, root: String| {
        json!({"rootHash": root, "treeSize": size, "signedTreeHead": note(size), "treeID": "7"})
            .to_string()
    };
    let make = |steps: Vec<Step>| {
        let steps = Mutex::new(steps.into_iter().rev().collect::<Vec<_>>());
        let t = move |_: Request<Vec<u8>>, _: Duration| steps.lock().unwrap().pop().unwrap();
        RekorClient::new("https://log.example", t, vec![log.clone()]).with_sleep(|_| {})
    };
    let proof = |a: u64, b: u64| {
        let hashes: Vec<String> = tree
            .consistency_proof(a, b)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        json!({"rootHash": tree.root_at(b).unwrap().to_string(), "hashes": hashes}).to_string()
    };

    let c = make(vec![
        response(200, info(25, tree.root_at(25).unwrap().to_string())),
        response(200, info(40, tree.root().to_string())),
        response(200, proof(25, 40)),
    ]);
    let (_, old) = c.log_info().unwrap();
    let (_, new) = c.log_info().unwrap();
    assert_eq!((old.size, new.size), (25, 40));
    c.prove_consistency(&old, &new).unwrap();

    // A logInfo whose root is not its signed tree head's.
    let c = make(vec![response(200, info(25, "ab".repeat(32)))]);
    assert!(matches!(c.log_info(), Err(ClientError::Verification(_))));
    // A consistency proof for other sizes.
    let c = make(vec![response(200, proof(24, 40))]);
    assert!(matches!(
        c.prove_consistency(&old, &new),
        Err(ClientError::Verification(_))
    ));
    // Same size, different root: a fork, detected without asking the log.
    let mut forked = new.clone();
    forked.size = 25;
    assert!(matches!(
        make(vec![]).prove_consistency(&old, &forked),
        Err(ClientError::Verification(_))
    ));
    // A checkpoint signed by another key.
    let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let text = Checkpoint::new("log.example - 7", 25, tree.root_at(25).unwrap())
        .unwrap()
        .to_string();
    let bad = SignedNote::sign(&text, "log.example", log.note_verifier().key_id(), &other)
        .unwrap()
        .to_text();
    let body = json!({"rootHash": tree.root_at(25).unwrap().to_string(), "treeSize": 25, "signedTreeHead": bad, "treeID": "7"});
    let c = make(vec![response(200, body.to_string())]);
    assert!(matches!(c.log_info(), Err(ClientError::Verification(_))));
}
