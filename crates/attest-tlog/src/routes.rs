//! The Rekor v1 REST API over `http` types: entries by UUID and index, retrieval, log info, proofs, and the in-process transport.

#[allow(clippy::wildcard_imports)]
use super::*;

impl LocalLog {
    /// Answers one Rekor v1 API request. Blocks until a new entry is durable.
    #[must_use]
    pub fn handle(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        match self.route(req) {
            Routed::Answer(r) => r.unwrap_or_else(Reject::into_response),
            Routed::Commit { canonical, leaf } => {
                let done = self.submit(canonical, leaf);
                self.created(leaf, done)
                    .unwrap_or_else(Reject::into_response)
            }
        }
    }

    /// [`handle`](Self::handle) for an async server: waiting for a group
    /// commit suspends instead of blocking a thread.
    #[cfg(feature = "http")]
    pub(crate) async fn handle_async(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        match self.route(req) {
            Routed::Answer(r) => r.unwrap_or_else(Reject::into_response),
            Routed::Commit { canonical, leaf } => {
                let done = self.submit_async(canonical, leaf).await;
                self.created(leaf, done)
                    .unwrap_or_else(Reject::into_response)
            }
        }
    }

    /// Everything of a request but the wait for a commit.
    pub(crate) fn route(&self, req: &Request<Vec<u8>>) -> Routed {
        let path = req.uri().path().trim_end_matches('/');
        let query = req.uri().query().unwrap_or("");
        let m = req.method();
        if path == "/api/v1/log/entries" && m == Method::POST {
            return match self.validate(req.body()) {
                Ok((canonical, leaf)) => Routed::Commit { canonical, leaf },
                Err(e) => Routed::Answer(Err(e)),
            };
        }
        let r = match path {
            "/api/v1/log/entries" if m == Method::GET => self.get_by_index(query),
            "/api/v1/log/entries/retrieve" if m == Method::POST => self.retrieve(req.body()),
            "/api/v1/log" if m == Method::GET => self.shared().log_info(),
            "/api/v1/log/proof" if m == Method::GET => self.shared().consistency(query),
            "/api/v1/log/publicKey" if m == Method::GET => Ok(respond(
                StatusCode::OK,
                "application/x-pem-file",
                self.public_key().to_pem().into_bytes(),
            )),
            p if m == Method::GET && p.starts_with("/api/v1/log/entries/") => {
                self.get_by_id(&p["/api/v1/log/entries/".len()..])
            }
            "/api/v1/log/entries"
            | "/api/v1/log/entries/retrieve"
            | "/api/v1/log"
            | "/api/v1/log/proof"
            | "/api/v1/log/publicKey" => {
                Err(err(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"))
            }
            _ => Err(err(StatusCode::NOT_FOUND, "no such endpoint")),
        };
        Routed::Answer(r)
    }

    /// Queues an entry for the writer; `reply` gets the outcome (called at
    /// once if the log is shutting down).
    pub(crate) fn enqueue(&self, body: Vec<u8>, leaf: Hash, reply: Box<dyn FnOnce(Done) + Send>) {
        let tx = self
            .inner
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match tx {
            Some(tx) => {
                if let Err(mpsc::SendError(job)) = tx.send(Job { body, leaf, reply }) {
                    (job.reply)(Done::Failed("the log is shutting down".into()));
                }
            }
            None => reply(Done::Failed("the log is shutting down".into())),
        }
    }

    /// Queues an entry and blocks until its group commit.
    pub(crate) fn submit(&self, body: Vec<u8>, leaf: Hash) -> Done {
        let (reply, rx) = mpsc::sync_channel(1);
        self.enqueue(
            body,
            leaf,
            Box::new(move |d| {
                let _ = reply.send(d);
            }),
        );
        rx.recv()
            .unwrap_or_else(|_| Done::Failed("the log writer stopped".into()))
    }

    /// Queues an entry and awaits its group commit (no thread blocks).
    #[cfg(feature = "http")]
    async fn submit_async(&self, body: Vec<u8>, leaf: Hash) -> Done {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.enqueue(
            body,
            leaf,
            Box::new(move |d| {
                let _ = reply.send(d);
            }),
        );
        rx.await
            .unwrap_or_else(|_| Done::Failed("the log writer stopped".into()))
    }

    /// A proposed entry's canonical body and leaf hash, or the 4xx.
    pub(crate) fn validate(&self, body: &[u8]) -> Result<(Vec<u8>, Hash), Reject> {
        let sh = self.shared();
        if body.len() > sh.options.max_body_bytes {
            return Err(err(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "request body larger than {} bytes",
                    sh.options.max_body_bytes
                ),
            ));
        }
        let canonical =
            canonicalize(&sh.keys, body).map_err(|m| err(StatusCode::BAD_REQUEST, &m))?;
        let leaf = leaf_hash(&canonical);
        Ok((canonical, leaf))
    }

    /// The answer to a committed (or refused) proposal.
    pub(crate) fn created(&self, leaf: Hash, done: Done) -> Answer {
        let sh = self.shared();
        match done {
            Done::Created { index, head } => {
                let entry = sh.entry(index, &head).map_err(internal)?;
                let mut r = respond(
                    StatusCode::CREATED,
                    "application/json",
                    entry.to_json().into_bytes(),
                );
                // A hash and an entry id: hex digits, always valid header values.
                r.headers_mut()
                    .insert(header::ETAG, hex_header(&format!("\"{leaf}\"")));
                r.headers_mut().insert(
                    header::LOCATION,
                    hex_header(&format!("/api/v1/log/entries/{}", entry.id)),
                );
                Ok(r)
            }
            Done::Exists { index } => {
                let id = EntryId::new(Some(sh.tree_id), leaf);
                let mut r = err(
                    StatusCode::CONFLICT,
                    &format!(
                        "an equivalent entry already exists in the transparency log with UUID {id} at index {index}"
                    ),
                );
                r.location = Some(format!("/api/v1/log/entries/{id}"));
                Err(r)
            }
            Done::Failed(m) => Err(err(StatusCode::INTERNAL_SERVER_ERROR, &m)),
        }
    }

    pub(crate) fn get_by_id(&self, id: &str) -> Answer {
        let Ok(id) = EntryId::parse(id) else {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "entry id must be 64 or 80 hex digits",
            ));
        };
        let sh = self.shared();
        if id.tree_id().is_some_and(|t| t != sh.tree_id) {
            return Err(not_found());
        }
        let index = sh.lookup(id.uuid()).ok_or_else(not_found)?;
        let head = sh.head();
        ok_json(sh.entry(index, &head).map_err(internal)?.to_json())
    }

    pub(crate) fn get_by_index(&self, query: &str) -> Answer {
        let Some(index) = param(query, "logIndex") else {
            return Err(err(StatusCode::BAD_REQUEST, "logIndex is required"));
        };
        let index: u64 = index.parse().map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                "logIndex must be a non-negative integer",
            )
        })?;
        let sh = self.shared();
        let head = sh.head();
        if index >= head.size {
            return Err(not_found());
        }
        ok_json(sh.entry(index, &head).map_err(internal)?.to_json())
    }

    pub(crate) fn retrieve(&self, body: &[u8]) -> Answer {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Query {
            #[serde(default, rename = "entryUUIDs")]
            entry_uuids: Vec<String>,
            #[serde(default)]
            log_indexes: Vec<u64>,
            #[serde(default)]
            entries: Vec<serde_json::Value>,
        }
        let q: Query = serde_json::from_slice(body).map_err(|e| {
            err(
                StatusCode::BAD_REQUEST,
                &format!("malformed query: {e}", e = attest_dsse::ErrorChain(&e)),
            )
        })?;
        let n = q.entry_uuids.len() + q.log_indexes.len() + q.entries.len();
        if n > attest_rekor::sansio::MAX_RETRIEVE {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!(
                    "at most {} queries per request",
                    attest_rekor::sansio::MAX_RETRIEVE
                ),
            ));
        }
        let sh = self.shared();
        let head = sh.head();
        let mut indices = Vec::new();
        for s in &q.entry_uuids {
            let id = EntryId::parse(s).map_err(|_| {
                err(
                    StatusCode::BAD_REQUEST,
                    "entry id must be 64 or 80 hex digits",
                )
            })?;
            if id.tree_id().is_none_or(|t| t == sh.tree_id) {
                indices.extend(sh.lookup(id.uuid()));
            }
        }
        indices.extend(q.log_indexes.iter().copied());
        for e in &q.entries {
            let bytes = e.to_string().into_bytes();
            let canonical =
                canonicalize(&sh.keys, &bytes).map_err(|m| err(StatusCode::BAD_REQUEST, &m))?;
            indices.extend(sh.lookup(&leaf_hash(&canonical)));
        }
        // A JSON array of the entries' own JSON, joined as text.
        let mut out = String::from("[");
        for (n, i) in indices.into_iter().filter(|&i| i < head.size).enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&sh.entry(i, &head).map_err(internal)?.to_json());
        }
        out.push(']');
        ok_json(out)
    }
}

impl rekor_client::Transport for LocalLog {
    type Error = std::convert::Infallible;

    /// In-process: the request is answered directly (the timeout does not
    /// apply; a request waits for its group commit).
    fn send(
        &self,
        req: Request<Vec<u8>>,
        _timeout: Duration,
    ) -> Result<Response<Vec<u8>>, Self::Error> {
        Ok(self.handle(&req))
    }
}

impl Shared {
    /// `checkpoint` with the witness cosignatures obtained for it.
    pub(crate) fn served_checkpoint(&self, checkpoint: &str) -> String {
        match &*self
            .cosignatures
            .read()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(c) => c.decorate(checkpoint),
            None => checkpoint.to_owned(),
        }
    }

    /// The REST entry at `index` with its SET and an inclusion proof against
    /// `head` (its checkpoint as served: with the cosignatures obtained).
    pub(crate) fn entry(&self, index: u64, head: &Head) -> Result<LogEntry, StorageError> {
        let rec = self.files.read_entry(index)?;
        let leaf = rec.leaf;
        let entry = LogEntry::new(
            EntryId::new(Some(self.tree_id), leaf),
            rec.body,
            rec.time,
            self.log_id,
            index,
        );
        let set = self.key.sign(&attest_rekor::verify::hazmat::set_payload(
            &entry.body_b64,
            rec.time,
            &self.log_id.to_hex(),
            index,
        ));
        let plan =
            inclusion_plan(index, head.size).map_err(|e| StorageError::Corrupt(Damage::Plan(e)))?;
        let proof = plan.read_proof(&self.files)?;
        Ok(entry
            .with_set(Base64::encode_string(&set))
            .with_inclusion_proof(RestInclusionProof::new(
                index,
                head.root.to_string(),
                head.size,
                proof.as_slice().iter().map(ToString::to_string).collect(),
                // With the witnesses' cosignatures once they are in: an
                // entry read later carries a witnessed checkpoint.
                Some(self.served_checkpoint(&head.checkpoint)),
            )))
    }

    pub(crate) fn log_info(&self) -> Answer {
        let head = self.head();
        ok_json(
            serde_json::json!({
                "rootHash": head.root.to_string(),
                "treeSize": head.size,
                "signedTreeHead": self.served_checkpoint(&head.checkpoint),
                "treeID": self.tree_id.to_string(),
                "inactiveShards": [],
            })
            .to_string(),
        )
    }

    pub(crate) fn consistency(&self, query: &str) -> Answer {
        let size = |name| -> Result<u64, Reject> {
            param(query, name)
                .ok_or_else(|| err(StatusCode::BAD_REQUEST, &format!("{name} is required")))?
                .parse()
                .map_err(|_| {
                    err(
                        StatusCode::BAD_REQUEST,
                        &format!("{name} must be a non-negative integer"),
                    )
                })
        };
        let first = match param(query, "firstSize") {
            None => 1,
            Some(_) => size("firstSize")?,
        };
        let last = size("lastSize")?;
        if param(query, "treeID").is_some_and(|t| t != self.tree_id.to_string()) {
            return Err(err(StatusCode::BAD_REQUEST, "unknown treeID"));
        }
        let head = self.head();
        if first == 0 || first > last || last > head.size {
            return Err(err(
                StatusCode::BAD_REQUEST,
                &format!(
                    "firstSize({first}) must be at least 1 and at most lastSize({last}), which must be at most the tree size {}",
                    head.size
                ),
            ));
        }
        let root = read_root(&self.files, last).map_err(internal)?;
        let hashes: Vec<String> = if first == last {
            Vec::new()
        } else {
            let plan = consistency_plan(first, last)
                .map_err(|e| internal(StorageError::Corrupt(Damage::Plan(e))))?;
            plan.read_proof(&self.files)
                .map_err(internal)?
                .as_slice()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        ok_json(serde_json::json!({ "rootHash": root.to_string(), "hashes": hashes }).to_string())
    }
}

/// The first value of query parameter `name`, percent-decoded
/// (`application/x-www-form-urlencoded`, as HTTP clients encode queries).
pub(crate) fn param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub(crate) fn ok_json(body: String) -> Answer {
    Ok(respond(
        StatusCode::OK,
        "application/json",
        body.into_bytes(),
    ))
}

/// A response with a status, a content type (a static media type) and a body.
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    r
}

/// A header value made of hex digits, quotes and slashes (an ETag, a
/// Location path): always valid; anything else is dropped to the empty
/// value rather than sent (it cannot happen with the callers' inputs).
pub(crate) fn hex_header(s: &str) -> header::HeaderValue {
    header::HeaderValue::from_str(s).unwrap_or(header::HeaderValue::from_static(""))
}

/// A refusal: Rekor's `{code, message}` body with the HTTP status as the
/// code, or no body at all (an unknown entry).
pub(crate) struct Reject {
    pub(crate) status: StatusCode,
    pub(crate) message: Option<String>,
    pub(crate) location: Option<String>,
}

pub(crate) type Answer = Result<Response<Vec<u8>>, Reject>;

impl Reject {
    pub(crate) fn into_response(self) -> Response<Vec<u8>> {
        let mut r = match self.message {
            Some(message) => {
                let body = ErrorBody {
                    code: i64::from(self.status.as_u16()),
                    message,
                };
                // An integer and a string: serialization cannot fail.
                #[allow(clippy::expect_used)]
                let json = serde_json::to_vec(&body).expect("an error body serializes");
                respond(self.status, "application/json", json)
            }
            None => {
                let mut r = Response::new(Vec::new());
                *r.status_mut() = self.status;
                r
            }
        };
        if let Some(l) = &self.location {
            r.headers_mut().insert(header::LOCATION, hex_header(l));
        }
        r
    }
}

pub(crate) fn err(status: StatusCode, message: &str) -> Reject {
    Reject {
        status,
        message: Some(message.to_owned()),
        location: None,
    }
}

/// Rekor's 404 for an unknown entry: no body.
pub(crate) fn not_found() -> Reject {
    Reject {
        status: StatusCode::NOT_FOUND,
        message: None,
        location: None,
    }
}

pub(crate) fn internal(e: StorageError) -> Reject {
    err(
        StatusCode::INTERNAL_SERVER_ERROR,
        &attest_dsse::ErrorChain(&e).to_string(),
    )
}
