//! Proposed entries validated as Rekor does and canonicalized (`dsse`, `hashedrekord`), with a cache of parsed verifier keys.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Validates a proposed entry as Rekor does and returns the canonical body
/// it stores, or the 400 message.
pub(crate) fn canonicalize(keys: &KeyCache, body: &[u8]) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Proposed {
        kind: String,
        api_version: String,
        spec: serde_json::Value,
    }
    let p: Proposed = serde_json::from_slice(body).map_err(|e| {
        format!(
            "malformed proposed entry: {e}",
            e = attest_dsse::ErrorChain(&e)
        )
    })?;
    match (p.kind.as_str(), p.api_version.as_str()) {
        ("dsse", "0.0.1") => dsse_body(keys, &p.spec),
        ("hashedrekord", "0.0.1") => hashedrekord_body(keys, &p.spec),
        ("dsse" | "hashedrekord", v) => Err(format!(
            "unsupported apiVersion {v:?} for kind {:?}",
            p.kind
        )),
        (k, _) => Err(format!("unsupported entry kind {k:?}")),
    }
}

/// Parsed verifier keys by their base64 text: submitters reuse a few keys,
/// and parsing one (PEM, SPKI, point decompression) costs as much as a
/// signature check. Bounded; cleared when full.
#[derive(Default)]
pub(crate) struct KeyCache(Mutex<HashMap<String, (String, PublicKey)>>);

pub(crate) const KEY_CACHE_ENTRIES: usize = 4096;

/// The most (signature, verifier) pairs one `dsse` entry may ask the log to
/// try (a 400 beyond): Rekor's own entries have one of each.
pub const MAX_VERIFY_PAIRS: usize = 64;

impl KeyCache {
    pub(crate) fn decode_pem_b64(&self, s: &str) -> Result<(String, PublicKey), String> {
        if let Some(hit) = self.0.lock().unwrap_or_else(PoisonError::into_inner).get(s) {
            return Ok(hit.clone());
        }
        let pem = Base64::decode_vec(s).map_err(|_| "verifier is not base64".to_owned())?;
        let pem = String::from_utf8(pem).map_err(|_| "verifier is not PEM text".to_owned())?;
        let key = attest_rekor::x509::public_key_from_pem(&pem)
            .map_err(|e| format!("verifier: {e}", e = attest_dsse::ErrorChain(&e)))?;
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= KEY_CACHE_ENTRIES {
            map.clear();
        }
        map.insert(s.to_owned(), (pem.clone(), key.clone()));
        Ok((pem, key))
    }
}

pub(crate) fn dsse_body(keys: &KeyCache, spec: &serde_json::Value) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        proposed_content: Content,
    }
    #[derive(Deserialize)]
    struct Content {
        envelope: String,
        verifiers: Vec<String>,
    }
    let spec: Spec = serde_json::from_value(spec.clone())
        .map_err(|e| format!("dsse spec: {e}", e = attest_dsse::ErrorChain(&e)))?;
    let c = spec.proposed_content;
    let env = Envelope::from_json(c.envelope.as_bytes())
        .map_err(|e| format!("envelope: {e}", e = attest_dsse::ErrorChain(&e)))?;
    if !env.rejected_signatures().is_empty() {
        return Err("envelope has malformed signatures".into());
    }
    if env.signatures().is_empty() {
        return Err("envelope has no signatures".into());
    }
    if c.verifiers.is_empty() {
        return Err("at least one verifier is required".into());
    }
    // A bounded cost per request: every (signature, verifier) pair may have
    // to be tried, so their product is capped before any key is parsed.
    let pairs_asked = env.signatures().len().saturating_mul(c.verifiers.len());
    if pairs_asked > MAX_VERIFY_PAIRS {
        return Err(format!(
            "{} signatures × {} verifiers: at most {MAX_VERIFY_PAIRS} pairs are checked per entry",
            env.signatures().len(),
            c.verifiers.len()
        ));
    }
    let verifiers = c
        .verifiers
        .iter()
        .map(|v| keys.decode_pem_b64(v))
        .collect::<Result<Vec<_>, _>>()?;
    let pae = env.pae();
    let mut pairs = Vec::new();
    for (i, s) in env.signatures().iter().enumerate() {
        // A key hint naming a verifier's key id: only that verifier is tried.
        let hinted = s
            .keyid
            .as_deref()
            .filter(|h| !h.is_empty())
            .and_then(|h| verifiers.iter().find(|(_, k)| k.key_id() == h));
        let found = match hinted {
            Some((pem, k)) => k.verifies(&pae, &s.sig).then_some(pem),
            None => verifiers
                .iter()
                .find(|(_, k)| k.verifies(&pae, &s.sig))
                .map(|(pem, _)| pem),
        };
        let Some(pem) = found else {
            return Err(format!(
                "signature {i} does not verify with any of the verifiers"
            ));
        };
        pairs.push((s.sig.clone(), pem.clone()));
    }
    let envelope_hash = Hash(Sha256::digest(c.envelope.as_bytes()).into()).to_string();
    let payload_hash = attest_rekor::hashes::payload_hash(&env);
    attest_rekor::body::dsse_v001_body(&envelope_hash, &payload_hash, &pairs)
        .map_err(|e| attest_dsse::ErrorChain(&e).to_string())
}

pub(crate) fn hashedrekord_body(
    keys: &KeyCache,
    spec: &serde_json::Value,
) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        data: Data,
        signature: Sig,
    }
    #[derive(Deserialize)]
    struct Data {
        hash: HashJson,
    }
    #[derive(Deserialize)]
    struct HashJson {
        algorithm: String,
        value: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sig {
        content: String,
        public_key: Content,
    }
    #[derive(Deserialize)]
    struct Content {
        content: String,
    }
    let spec: Spec = serde_json::from_value(spec.clone())
        .map_err(|e| format!("hashedrekord spec: {e}", e = attest_dsse::ErrorChain(&e)))?;
    if spec.data.hash.algorithm != "sha256" {
        return Err(format!(
            "unsupported hash algorithm {:?}",
            spec.data.hash.algorithm
        ));
    }
    let digest = Hash::from_hex(&spec.data.hash.value)
        .map_err(|e| format!("data.hash.value: {e}", e = attest_dsse::ErrorChain(&e)))?;
    let sig = Base64::decode_vec(&spec.signature.content)
        .map_err(|_| "signature.content is not base64".to_owned())?;
    let (_, key) = keys.decode_pem_b64(&spec.signature.public_key.content)?;
    if !key.verifies_prehashed_sha256(digest.as_bytes(), &sig) {
        return Err("the signature does not verify with the public key over the digest".into());
    }
    attest_rekor::body::hashedrekord_v001_body(
        digest.as_bytes(),
        &sig,
        &spec.signature.public_key.content,
    )
    .map_err(|e| attest_dsse::ErrorChain(&e).to_string())
}
