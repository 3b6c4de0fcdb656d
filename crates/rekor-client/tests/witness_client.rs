//! The witness client against canned answers: a cosignature is returned
//! only when it verifies with the configured key over the checkpoint sent;
//! a 409 with a size is a conflict, anything else a typed error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::time::Duration;

use attest_dsse::{SigningKey, Timestamp};
use attest_rekor::witness::{Cosigner, WitnessKey};
use attest_rekor::{NoteVerifier, SignedNote};
use http::{Request, Response, StatusCode, header};
use rekor_client::witness::{Submitted, WitnessClient, WitnessClientError};

const ORIGIN: &str = "log.test/a";

fn checkpoint() -> String {
    let key = SigningKey::ed25519_from_seed(&[1; 32]);
    let text = format!("{ORIGIN}\n3\n{}\n", attest_merkle::Hash::default().base64());
    let id = NoteVerifier::c2sp(ORIGIN, key.public_key().clone()).key_id();
    SignedNote::sign(&text, ORIGIN, id, &key).unwrap().to_text()
}

fn cosigner(seed: u8) -> Cosigner {
    Cosigner::new("w.test/1", SigningKey::ed25519_from_seed(&[seed; 32])).unwrap()
}

fn key() -> WitnessKey {
    cosigner(2).witness().clone()
}

type Answer = fn(&str) -> Response<Vec<u8>>;

fn client(answer: Answer) -> WitnessClient<impl rekor_client::Transport> {
    let t = move |req: Request<Vec<u8>>, _: Duration| {
        assert_eq!(req.uri().path(), "/add-checkpoint");
        Ok::<_, Infallible>(answer(std::str::from_utf8(req.body()).unwrap()))
    };
    WitnessClient::new(t, "http://w.test", key()).unwrap()
}

fn ok(body: String) -> Response<Vec<u8>> {
    Response::new(body.into_bytes())
}

fn cosign_with(seed: u8, body: &str) -> String {
    let note = body.split_once("\n\n").unwrap().1;
    let text = SignedNote::parse(note).unwrap().text().to_owned();
    let line = cosigner(seed)
        .cosign(&text, Timestamp::now().unix() as u64)
        .unwrap();
    format!("{}\n", line.to_line())
}

#[test]
fn a_valid_line_is_returned_with_its_time() {
    let c = client(|b| ok(cosign_with(2, b)));
    match c.add_checkpoint(0, &[], &checkpoint()).unwrap() {
        Submitted::Cosigned { line, time } => {
            assert_eq!(line.name, "w.test/1");
            assert!(time > 0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_line_by_another_key_under_the_witness_name_is_refused() {
    // Same name, another key: the key id differs, so no line is "its".
    let c = client(|b| ok(cosign_with(9, b)));
    let e = c.add_checkpoint(0, &[], &checkpoint()).unwrap_err();
    assert!(matches!(e, WitnessClientError::Malformed { .. }), "{e:?}");
}

#[test]
fn a_line_over_another_checkpoint_is_refused() {
    let c = client(|b| {
        let other = b.replace("\n3\n", "\n4\n");
        ok(cosign_with(2, &other))
    });
    let e = c.add_checkpoint(0, &[], &checkpoint()).unwrap_err();
    assert!(matches!(e, WitnessClientError::Cosignature(_)), "{e:?}");
}

#[test]
fn a_409_with_a_size_is_a_conflict_other_refusals_are_errors() {
    let c = client(|_| {
        let mut r = Response::new(b"17\n".to_vec());
        *r.status_mut() = StatusCode::CONFLICT;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/x.tlog.size"),
        );
        r
    });
    assert_eq!(
        c.add_checkpoint(0, &[], &checkpoint()).unwrap(),
        Submitted::Conflict { known_size: 17 }
    );
    let c = client(|_| {
        let mut r = Response::new(b"size 3 was cosigned with another root hash\n".to_vec());
        *r.status_mut() = StatusCode::CONFLICT;
        r
    });
    let e = c.add_checkpoint(0, &[], &checkpoint()).unwrap_err();
    assert!(
        matches!(&e, WitnessClientError::Refused { status: 409, message, .. } if message.contains("another root")),
        "{e:?}"
    );
    let c = client(|_| {
        let mut r = Response::new(b"x\n".to_vec());
        *r.status_mut() = StatusCode::CONFLICT;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/x.tlog.size"),
        );
        r
    });
    assert!(matches!(
        c.add_checkpoint(0, &[], &checkpoint()).unwrap_err(),
        WitnessClientError::Malformed { .. }
    ));
}

#[test]
fn a_bad_url_or_checkpoint_is_refused_before_sending() {
    let t = |_: Request<Vec<u8>>, _: Duration| -> Result<Response<Vec<u8>>, Infallible> {
        panic!("nothing is sent")
    };
    assert!(matches!(
        WitnessClient::new(t, "ftp://w.test", key()).unwrap_err(),
        WitnessClientError::Url(_)
    ));
    let c = WitnessClient::new(t, "http://w.test", key()).unwrap();
    assert!(matches!(
        c.add_checkpoint(0, &[], "not a note").unwrap_err(),
        WitnessClientError::Checkpoint(_)
    ));
}
