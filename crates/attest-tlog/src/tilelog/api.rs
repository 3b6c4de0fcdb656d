//! Writing and reading the tile log: appends (blocking and async), the Rekor v2 write API (`POST /api/v2/log/entries`) and the static read paths, over `http` types.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A response with a body of content type `ctype`.
pub(super) fn plain_response(
    status: StatusCode,
    ctype: &'static str,
    body: Vec<u8>,
) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(ctype),
    );
    r
}

/// Rekor's error body `{code, message}`.
pub(super) fn error_response(status: StatusCode, message: &str) -> Response<Vec<u8>> {
    let body = serde_json::to_vec(&serde_json::json!({
        "code": status.as_u16(), "message": message
    }))
    .unwrap_or_default();
    plain_response(status, "application/json", body)
}

/// The answer to a create.
pub(super) fn create_response(r: Result<Vec<u8>, (StatusCode, String)>) -> Response<Vec<u8>> {
    match r {
        Ok(json) => plain_response(StatusCode::CREATED, "application/json", json),
        Err((status, m)) => error_response(status, &m),
    }
}

impl TileLog {
    /// Appends one canonical entry body and waits until a durable
    /// checkpoint covers it.
    ///
    /// # Errors
    /// [`TileLogError::Stopped`] if the sequencer stopped or a write failed.
    pub fn append(&self, body: Vec<u8>) -> Result<Integrated, TileLogError> {
        self.submit(body)?.wait()
    }

    /// Queues one canonical entry body without waiting: a writer with many
    /// entries in flight submits them all, then waits for each (they join
    /// the same batches, so one checkpoint covers many).
    ///
    /// # Errors
    /// [`TileLogError::Stopped`] if the sequencer stopped.
    pub fn submit(&self, body: Vec<u8>) -> Result<Pending, TileLogError> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.enqueue(
            body,
            Box::new(move |r| {
                let _ = reply.send(r);
            }),
        )?;
        Ok(Pending { rx })
    }

    /// [`append`](Self::append) for async callers: the wait suspends the
    /// task, no thread blocks on it.
    ///
    /// # Errors
    /// As [`append`](Self::append).
    #[cfg(feature = "http")]
    pub async fn append_async(&self, body: Vec<u8>) -> Result<Integrated, TileLogError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.enqueue(
            body,
            Box::new(move |r| {
                let _ = reply.send(r);
            }),
        )?;
        rx.await
            .map_err(|_| TileLogError::Stopped(Arc::new(SequencerError::Gone)))?
    }

    pub(super) fn enqueue(
        &self,
        body: Vec<u8>,
        reply: Box<dyn FnOnce(Result<Integrated, TileLogError>) + Send>,
    ) -> Result<(), TileLogError> {
        if body.len() > MAX_ENTRY_BYTES {
            return Err(TileLogError::TooLarge(body.len()));
        }
        let tx = self
            .inner
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| TileLogError::Stopped(Arc::new(SequencerError::Gone)))?;
        tx.send(Job { body, reply })
            .map_err(|_| TileLogError::Stopped(Arc::new(SequencerError::Gone)))
    }

    /// Checks a `hashedRekordRequestV002` as a Rekor v2 log does (the
    /// signature verifies over the digest with the named key), logs its
    /// canonical body and returns the `TransparencyLogEntry` JSON.
    ///
    /// # Errors
    /// `(status, message)`: 400 for a request the log refuses, 409 (with
    /// the index, in Rekor v2's words) when an identical entry is among the
    /// recent ones ([`TileLogOptions::dedup_window`]), 413 for an entry
    /// over [`MAX_ENTRY_BYTES`], 500 when the write failed.
    pub fn create(&self, request_json: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
        let body = self.validate(request_json)?;
        let done = self.append(body.clone());
        self.created(&body, done)
    }

    /// [`create`](Self::create) for async callers (the HTTP server): the
    /// request is checked on the calling task, the wait for the batch's
    /// checkpoint suspends it.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    #[cfg(feature = "http")]
    pub async fn create_async(&self, request_json: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
        let body = self.validate(request_json)?;
        let done = self.append_async(body.clone()).await;
        self.created(&body, done)
    }

    /// The request checked as a Rekor v2 log checks it: its canonical body.
    pub(super) fn validate(&self, request_json: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
        let bad = |m: String| (StatusCode::BAD_REQUEST, m);
        let req = V2Request::from_json(request_json)
            .map_err(|e| bad(attest_dsse::ErrorChain(&e).to_string()))?;
        let key = self.verifier_key(&req.verifier).map_err(bad)?;
        let alg = algorithm_of(&req.key_details)
            .map_err(|e| bad(attest_dsse::ErrorChain(&e).to_string()))?;
        if alg != key.algorithm() {
            return Err(bad("keyDetails does not match the verifier's key".into()));
        }
        if alg == Algorithm::Ed25519 {
            return Err(bad(
                "Ed25519 signs the message, not its digest: this log cannot verify it (use ECDSA)"
                    .into(),
            ));
        }
        // The digest's length was checked against keyDetails when the
        // request was read, and keyDetails against the key just above: the
        // signature is checked over a digest of the key's own hash.
        if !key.verifies_prehashed(&req.digest, &req.signature) {
            return Err(bad("the signature does not verify over the digest".into()));
        }
        Ok(req.canonical_body())
    }

    /// The answer once the body was appended (or not).
    pub(super) fn created(
        &self,
        body: &[u8],
        done: Result<Integrated, TileLogError>,
    ) -> Result<Vec<u8>, (StatusCode, String)> {
        let done = done.map_err(|e| match e {
            TileLogError::TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                attest_dsse::ErrorChain(&e).to_string(),
            ),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                attest_dsse::ErrorChain(&e).to_string(),
            ),
        })?;
        if done.existing {
            // As Rekor v2: 409, the existing index in the message.
            return Err((
                StatusCode::CONFLICT,
                format!(
                    "an equivalent entry already exists in the transparency log with index {}",
                    done.index
                ),
            ));
        }
        Ok(self.entry_json(body, &done))
    }

    /// The verifier's public key, parsed once per distinct verifier among
    /// the recent ones: a service signing with one key has its key (and its
    /// precomputed verification tables, built after a few uses) reused
    /// rather than parsed and set up again for every entry.
    pub(super) fn verifier_key(&self, verifier: &V2Verifier) -> Result<PublicKey, String> {
        let raw = match verifier {
            V2Verifier::PublicKey(d) | V2Verifier::Certificate(d) => d,
        };
        let mut cache = self
            .inner
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = cache.get(raw) {
            return Ok(k.clone());
        }
        let key = match verifier {
            V2Verifier::PublicKey(spki) => PublicKey::from_spki_der(spki).map_err(|e| {
                format!("verifier public key: {e}", e = attest_dsse::ErrorChain(&e))
            })?,
            V2Verifier::Certificate(der) => attest_rekor::x509::certificate_public_key(der)
                .map_err(|e| {
                    format!("verifier certificate: {e}", e = attest_dsse::ErrorChain(&e))
                })?,
        };
        // Bounded: forget them all when full (keyless signing brings a new
        // key per certificate; those never repeat).
        if cache.len() >= KEY_CACHE {
            cache.clear();
        }
        cache.insert(raw.clone(), key.clone());
        Ok(key)
    }

    /// The `TransparencyLogEntry` JSON of an integrated body.
    pub(super) fn entry_json(&self, body: &[u8], done: &Integrated) -> Vec<u8> {
        let hashes: Vec<String> = done.proof.iter().map(|h| h.base64().to_string()).collect();
        let v = serde_json::json!({
            "logIndex": done.index.to_string(),
            "logId": { "keyId": self.inner.log_id.to_base64() },
            "kindVersion": { "kind": "hashedrekord", "version": "0.0.2" },
            "inclusionProof": {
                "logIndex": done.index.to_string(),
                "rootHash": done.root.base64().to_string(),
                "treeSize": done.tree_size.to_string(),
                "hashes": hashes,
                "checkpoint": { "envelope": done.checkpoint },
            },
            "canonicalizedBody": Base64::encode_string(body),
        });
        serde_json::to_vec(&v).unwrap_or_default()
    }

    /// A static file of the log (`checkpoint`, a tile, an entry bundle), as
    /// the store has it; `None` for any other path or a missing file.
    ///
    /// # Errors
    /// The store's I/O error.
    pub fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        if path != "checkpoint" && TileId::parse_path(path).is_err() {
            return Ok(None);
        }
        self.inner.store.get(path)
    }

    /// Answers an HTTP request: `POST /api/v2/log/entries`, `GET
    /// /checkpoint`, `GET /tile/…` (blocks while a write waits for its
    /// checkpoint).
    #[must_use]
    pub fn handle(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        if let Some(refused) = self.refuse_write(req) {
            return refused;
        }
        if req.uri().path() == attest_rekor::v2::CREATE_PATH {
            return create_response(self.create(req.body()));
        }
        self.read_response(req)
    }

    /// Whether `req` is a write (`POST /api/v2/log/entries`).
    #[must_use]
    pub fn is_write(req: &Request<Vec<u8>>) -> bool {
        req.uri().path() == attest_rekor::v2::CREATE_PATH && req.method() == Method::POST
    }

    /// [`handle`](Self::handle) for a write, awaited (the HTTP server's
    /// path: no thread waits for the batch's checkpoint).
    #[cfg(feature = "http")]
    pub async fn handle_write_async(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        if let Some(refused) = self.refuse_write(req) {
            return refused;
        }
        create_response(self.create_async(req.body()).await)
    }

    /// The answer to a request on the write path that is refused before
    /// any work: the wrong method, a body over the limit.
    pub(super) fn refuse_write(&self, req: &Request<Vec<u8>>) -> Option<Response<Vec<u8>>> {
        if req.uri().path() != attest_rekor::v2::CREATE_PATH {
            return None;
        }
        if req.method() != Method::POST {
            return Some(error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
            ));
        }
        if req.body().len() > self.inner.options.max_body_bytes {
            return Some(error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            ));
        }
        None
    }

    /// A read: the checkpoint, a tile or an entry bundle.
    pub(super) fn read_response(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        let path = req.uri().path();
        let respond = plain_response;
        let error = error_response;
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        let rel = path.trim_start_matches('/');
        // The path is parsed once: it decides both what may be read and how
        // long a cache may keep it.
        let (ctype, cache) = if rel == "checkpoint" {
            ("text/plain; charset=utf-8", "no-cache")
        } else {
            match TileId::parse_path(rel) {
                Ok((_, t)) if t.is_partial() => ("application/octet-stream", "public, max-age=60"),
                Ok(_) => (
                    "application/octet-stream",
                    "public, max-age=31536000, immutable",
                ),
                Err(_) => {
                    return respond(StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec());
                }
            }
        };
        // The checkpoint goes out with the witness cosignatures obtained
        // for it.
        let served = self.inner.store.get(rel).map(|b| {
            b.map(|bytes| {
                if rel != "checkpoint" {
                    return bytes;
                }
                match String::from_utf8(bytes) {
                    Ok(note) => self.decorate(note).into_bytes(),
                    Err(e) => e.into_bytes(),
                }
            })
        });
        match served {
            Ok(Some(bytes)) => {
                let mut r = respond(StatusCode::OK, ctype, bytes);
                r.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static(cache),
                );
                r
            }
            Ok(None) => respond(StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec()),
            Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "storage error"),
        }
    }

    /// The largest request body accepted.
    #[must_use]
    pub fn max_body_bytes(&self) -> usize {
        self.inner.options.max_body_bytes
    }
}
