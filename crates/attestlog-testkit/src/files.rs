//! A loopback HTTP/1.1 file server whose files a test changes while it
//! runs (a TUF repository, a mirror turned hostile), and Sigstore's TUF
//! repository from the vectors in the layout its CDN serves.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::Value;
use sha2::Digest as _;

/// What the server answers for a path.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with these bytes.
    Bytes(Vec<u8>),
    /// 200 with a body that never ends (no length; the server writes until
    /// the client hangs up).
    Endless,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Reply>,
    requests: Vec<String>,
}

/// A running file server; stopped when dropped. Paths are absolute
/// (`/timestamp.json`); a path with no file is 404.
pub struct FileServer {
    base: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    /// Serves `files` on a loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    #[must_use]
    pub fn start(files: HashMap<String, Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            files: files
                .into_iter()
                .map(|(k, v)| (k, Reply::Bytes(v)))
                .collect(),
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let state = state.clone();
                    std::thread::spawn(move || answer(conn, &state));
                }
            })
        };
        Self {
            base,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Serves `reply` at `path` from now on.
    ///
    /// # Panics
    /// When the server's lock is poisoned.
    pub fn set(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(path.to_owned(), reply);
    }

    /// The bytes served at `path`, if any.
    ///
    /// # Panics
    /// When the server's lock is poisoned.
    #[must_use]
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        match self.state.lock().unwrap().files.get(path) {
            Some(Reply::Bytes(b)) => Some(b.clone()),
            _ => None,
        }
    }

    /// 404 at `path` from now on.
    ///
    /// # Panics
    /// When the server's lock is poisoned.
    pub fn remove(&self, path: &str) {
        self.state.lock().unwrap().files.remove(path);
    }

    /// The paths requested so far, in order; clears the record.
    ///
    /// # Panics
    /// When the server's lock is poisoned.
    #[must_use]
    pub fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().requests)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(conn: TcpStream, state: &Mutex<State>) {
    let Ok(read) = conn.try_clone() else { return };
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let reply = {
        let Ok(mut s) = state.lock() else { return };
        s.requests.push(path.clone());
        s.files.get(&path).cloned()
    };
    let mut out = conn;
    match reply {
        None => {
            let _ = out.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        Some(Reply::Bytes(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&body);
        }
        Some(Reply::Endless) => {
            let _ = out.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = [b'{'; 64 * 1024];
            // Until the client hangs up (a write fails).
            while out.write_all(&chunk).is_ok() {}
        }
    }
}

/// Sigstore's TUF repository from `vectors/tuf/sigstore-root-signing`, laid
/// out as its CDN serves it with consistent snapshots: `/N.root.json` for
/// every root version, `/timestamp.json`, `/V.snapshot.json`,
/// `/V.targets.json`, `/V.<delegated>.json`, and every top-level target at
/// `/targets/<sha256>.<name>` (the hash from `targets.json`).
///
/// # Panics
/// When the vectors are missing or malformed.
#[must_use]
pub fn sigstore_tuf_layout() -> HashMap<String, Vec<u8>> {
    let dir = crate::vector_path("tuf/sigstore-root-signing");
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let json = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap();
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(dir.join("metadata/root_history")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        files.insert(format!("/{name}"), std::fs::read(entry.path()).unwrap());
    }
    let timestamp = read("metadata/timestamp.json");
    let snapshot_version = json(&timestamp)["signed"]["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap();
    files.insert("/timestamp.json".into(), timestamp);
    let snapshot = read("metadata/snapshot.json");
    let meta = json(&snapshot)["signed"]["meta"].clone();
    files.insert(format!("/{snapshot_version}.snapshot.json"), snapshot);
    for (name, pin) in meta.as_object().unwrap() {
        let path = dir.join("metadata").join(name);
        if path.is_file() {
            let v = pin["version"].as_u64().unwrap();
            files.insert(format!("/{v}.{name}"), std::fs::read(path).unwrap());
        }
    }
    let targets = json(&read("metadata/targets.json"));
    for (name, t) in targets["signed"]["targets"].as_object().unwrap() {
        let hash = t["hashes"]["sha256"].as_str().unwrap();
        files.insert(
            format!("/targets/{hash}.{name}"),
            read(&format!("targets/{name}")),
        );
    }
    files
}

/// Inside the recorded repository's timestamp window (2026-08-21T19:25Z to
/// 08-28): the clock TUF tests check expiry at.
pub const TUF_CLOCK: &str = "2026-08-22T00:00:00Z";

/// One loopback server with [`sigstore_tuf_layout`] for the whole test
/// process (never stopped).
#[must_use]
pub fn sigstore_tuf_server() -> &'static FileServer {
    static SERVER: std::sync::OnceLock<FileServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| FileServer::start(sigstore_tuf_layout()))
}

/// The environment that points the `attestlog` binary's default trust (the
/// production TUF repository) at [`sigstore_tuf_server`], a mirror of
/// production, at [`TUF_CLOCK`], caching in `cache`.
#[must_use]
pub fn sigstore_tuf_env(cache: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("ATTESTLOG_TUF_URL", sigstore_tuf_server().base().to_owned()),
        ("ATTESTLOG_TUF_CLOCK", TUF_CLOCK.to_owned()),
        ("ATTESTLOG_TUF_CACHE", cache.display().to_string()),
    ]
}

/// A TUF repository of our own (one Ed25519 key for every role, threshold
/// 1, consistent snapshots), for tests that need metadata Sigstore never
/// signed: older versions, or targets of a private Sigstore.
pub struct TufRepo {
    /// The files in the layout [`FileServer`] serves (`/1.root.json`,
    /// `/timestamp.json`, `/V.snapshot.json`, `/V.targets.json`,
    /// `/targets/<sha256>.<name>`).
    pub files: HashMap<String, Vec<u8>>,
}

const FAR: &str = "2030-01-01T00:00:00Z";

fn tuf_key() -> (ed25519_dalek::SigningKey, String, Value) {
    let k = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let raw = k.verifying_key().to_bytes();
    let public = base16ct::lower::encode_string(&raw);
    let keyid = base16ct::lower::encode_string(&sha2::Sha256::digest(raw));
    let tuf = serde_json::json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": public}});
    (k, keyid, tuf)
}

fn tuf_sign(signed: &Value) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let (k, keyid, _) = tuf_key();
    let canonical = sigstore_tuf::canonical_json::to_canonical_bytes(signed).unwrap();
    let sig = base16ct::lower::encode_string(&k.sign(&canonical).to_bytes());
    serde_json::to_vec(
        &serde_json::json!({"signed": signed, "signatures": [{"keyid": keyid, "sig": sig}]}),
    )
    .unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(&sha2::Sha256::digest(bytes))
}

impl TufRepo {
    /// Root 1 and the first release: timestamp `ts` pinning snapshot
    /// `snap`, which pins targets `tgt`, listing `targets` (name, bytes).
    #[must_use]
    pub fn new(ts: u64, snap: u64, tgt: u64, targets: &[(&str, &[u8])]) -> Self {
        let (_, keyid, tuf) = tuf_key();
        let role = serde_json::json!({"keyids": [keyid], "threshold": 1});
        let root = tuf_sign(&serde_json::json!({
            "_type": "root", "spec_version": "1.0", "version": 1, "expires": FAR,
            "consistent_snapshot": true, "keys": {keyid.clone(): tuf},
            "roles": {"root": role, "timestamp": role, "snapshot": role, "targets": role},
        }));
        let mut files = HashMap::new();
        files.insert("/1.root.json".to_owned(), root);
        let mut r = Self { files };
        r.publish(ts, snap, tgt, targets);
        r
    }

    /// The initial root (`1.root.json`) to trust the repository from.
    #[must_use]
    pub fn root(&self) -> Vec<u8> {
        self.files["/1.root.json"].clone()
    }

    /// Publishes timestamp `ts` → snapshot `snap` → targets `tgt` listing
    /// `targets`.
    pub fn publish(&mut self, ts: u64, snap: u64, tgt: u64, targets: &[(&str, &[u8])]) {
        let mut listed = serde_json::Map::new();
        for (name, bytes) in targets {
            let hash = sha256_hex(bytes);
            listed.insert(
                (*name).to_owned(),
                serde_json::json!({"length": bytes.len(), "hashes": {"sha256": hash}}),
            );
            self.files
                .insert(format!("/targets/{hash}.{name}"), bytes.to_vec());
        }
        let targets = tuf_sign(&serde_json::json!({
            "_type": "targets", "spec_version": "1.0", "version": tgt, "expires": FAR,
            "targets": listed,
        }));
        let snapshot = tuf_sign(&serde_json::json!({
            "_type": "snapshot", "spec_version": "1.0", "version": snap, "expires": FAR,
            "meta": {"targets.json": {"version": tgt}},
        }));
        let timestamp = tuf_sign(&serde_json::json!({
            "_type": "timestamp", "spec_version": "1.0", "version": ts, "expires": FAR,
            "meta": {"snapshot.json": {"version": snap, "length": snapshot.len(),
                                       "hashes": {"sha256": sha256_hex(&snapshot)}}},
        }));
        self.files.insert(format!("/{tgt}.targets.json"), targets);
        self.files
            .insert(format!("/{snap}.snapshot.json"), snapshot);
        self.files.insert("/timestamp.json".to_owned(), timestamp);
    }

    /// Serves (or re-serves) every file on `server`.
    pub fn serve(&self, server: &FileServer) {
        for (p, b) in &self.files {
            server.set(p, Reply::Bytes(b.clone()));
        }
    }
}
