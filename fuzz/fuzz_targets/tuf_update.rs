//! The TUF client against a hostile repository: every file it asks for is
//! cut from the fuzz input (the path picks the piece), and the initial root
//! is the first piece. It never panics, and whatever it accepts came from
//! the repository under a root chain that started at the initial root.
#![no_main]

use std::convert::Infallible;
use std::time::Duration;

use attest_dsse::Timestamp;
use libfuzzer_sys::fuzz_target;
use rekor_client::tuf::{TufClient, TufRepository};

fuzz_target!(|data: &[u8]| {
    let pieces: Vec<Vec<u8>> = data.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    let Some((root, files)) = pieces.split_first() else {
        return;
    };
    if files.is_empty() {
        return;
    }
    let files = files.to_vec();
    let transport = move |req: http::Request<Vec<u8>>,
                          _: Duration|
          -> Result<http::Response<Vec<u8>>, Infallible> {
        let path = req.uri().path();
        let pick = path.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        let body = files[pick % files.len()].clone();
        // An empty piece stands for "not found".
        let status = if body.is_empty() { 404 } else { 200 };
        Ok(http::Response::builder()
            .status(status)
            .body(body)
            .expect("a response"))
    };
    let client =
        TufClient::new(TufRepository::custom("http://repo.invalid", root.clone())).without_cache();
    let at = Timestamp::from_unix(1_787_400_000);
    if let Ok(trust) = client.update(&transport, &move || at) {
        // Accepted only with a root that verified, and versions that exist.
        assert!(trust.metadata.root.0 >= 1);
    }
});
