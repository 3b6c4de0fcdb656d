//! `attestlog merkle …`: roots, proofs and batch verification.

use std::borrow::Cow;
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use attest_merkle::{
    CompactRange, Hash, MerkleTree, ProofError, leaf_hash, verify_consistency, verify_inclusion,
};
use clap::{ArgGroup, Subcommand};
use serde::Deserialize;

use crate::Failure;
use crate::cmd::print_json;
use crate::failure::{EXIT_BAD_INPUT, EXIT_FAILED};

/// `attestlog merkle` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum MerkleCommand {
    /// Verify inclusion and consistency proofs given as JSON Lines on stdin.
    ///
    /// One object per line, hashes as hex or base64:
    /// `{"type":"inclusion","leafIdx":N,"treeSize":N,"leafHash":H,"root":H,"proof":[H…]}` or
    /// `{"type":"consistency","size1":N,"size2":N,"root1":H,"root2":H,"proof":[H…]}`.
    /// One JSON verdict per line on stdout; exit 0 only when all verified.
    Verify,
    /// Print the root of the tree whose leaves (hex, one per line) are on stdin.
    Root,
    /// Print an inclusion or consistency proof for the leaves on stdin.
    #[command(group(ArgGroup::new("kind").required(true).args(["index", "size1"])))]
    Prove {
        /// Leaf index for an inclusion proof.
        #[arg(long, conflicts_with_all = ["size1", "size2"])]
        index: Option<u64>,
        /// Tree size for the inclusion proof (default: all leaves read).
        #[arg(long)]
        size: Option<u64>,
        /// Old tree size for a consistency proof.
        #[arg(long)]
        size1: Option<u64>,
        /// New tree size for the consistency proof (default: all leaves read).
        #[arg(long)]
        size2: Option<u64>,
    },
}

pub(crate) fn run(cmd: MerkleCommand) -> Result<ExitCode, Failure> {
    let stdin = io::stdin().lock();
    let stdout = io::stdout().lock();
    match cmd {
        MerkleCommand::Verify => verify(stdin, stdout),
        MerkleCommand::Root => root(stdin),
        MerkleCommand::Prove {
            index: Some(index),
            size,
            ..
        } => {
            let tree = read_tree(stdin)?;
            let size = size.unwrap_or(tree.size());
            let proof = tree.inclusion_proof(index, size).map_err(Failure::error)?;
            let root = tree.root_at(size).map_err(Failure::error)?;
            print_json(&serde_json::json!({ "proof": hexes(&proof), "root": root.to_string() }))
        }
        MerkleCommand::Prove {
            size1: Some(size1),
            size2,
            ..
        } => {
            let tree = read_tree(stdin)?;
            let size2 = size2.unwrap_or(tree.size());
            let proof = tree
                .consistency_proof(size1, size2)
                .map_err(Failure::error)?;
            let root1 = tree.root_at(size1).map_err(Failure::error)?;
            let root2 = tree.root_at(size2).map_err(Failure::error)?;
            print_json(&serde_json::json!({
                "proof": hexes(&proof),
                "root1": root1.to_string(),
                "root2": root2.to_string(),
            }))
        }
        MerkleCommand::Prove { .. } => Err(Failure::input("give --index or --size1")),
    }
}

fn hexes(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(Hash::to_string).collect()
}

/// Reads hex leaf lines, calling `f` with each decoded leaf.
fn for_each_leaf(mut input: impl BufRead, mut f: impl FnMut(&[u8])) -> Result<(), Failure> {
    let mut line = Vec::new();
    let mut data = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        n += 1;
        let text = trim_newline(&line);
        data.clear();
        decode_hex(text, &mut data).map_err(|col| {
            Failure::input(format_args!("line {n}: leaf is not hex (column {col})"))
        })?;
        f(&data);
    }
}

fn read_tree(input: impl BufRead) -> Result<MerkleTree, Failure> {
    let mut tree = MerkleTree::new();
    for_each_leaf(input, |leaf| {
        tree.push(leaf);
    })?;
    Ok(tree)
}

fn root(input: impl BufRead) -> Result<ExitCode, Failure> {
    let mut range = CompactRange::new();
    let mut full = false;
    for_each_leaf(input, |leaf| full |= range.append(leaf_hash(leaf)).is_err())?;
    if full {
        return Err(Failure::input("more leaves than a tree can hold"));
    }
    let root = range.root().map_err(Failure::error)?;
    print_json(&serde_json::json!({ "size": range.end(), "root": root.to_string() }))
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Decodes hex into `out`; on error returns the 1-based column.
fn decode_hex(text: &[u8], out: &mut Vec<u8>) -> Result<(), usize> {
    if !text.len().is_multiple_of(2) {
        return Err(text.len());
    }
    if let Some(i) = text.iter().position(|c| !c.is_ascii_hexdigit()) {
        return Err(i + 1);
    }
    out.extend(base16ct::mixed::decode_vec(text).map_err(|_| 1usize)?);
    Ok(())
}

/// One line of `merkle verify` input. Both shapes share one flat struct so
/// that parsing borrows from the line and allocates nothing per hash.
#[derive(Deserialize)]
struct Case<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(rename = "leafIdx")]
    leaf_idx: Option<u64>,
    #[serde(rename = "treeSize")]
    tree_size: Option<u64>,
    #[serde(rename = "leafHash", borrow)]
    leaf_hash: Option<Cow<'a, str>>,
    #[serde(borrow)]
    root: Option<Cow<'a, str>>,
    size1: Option<u64>,
    size2: Option<u64>,
    #[serde(borrow)]
    root1: Option<Cow<'a, str>>,
    #[serde(borrow)]
    root2: Option<Cow<'a, str>>,
    #[serde(borrow)]
    proof: Option<Vec<Cow<'a, str>>>,
}

/// Why a line is not a valid case.
struct Malformed(String);

fn required<T>(v: Option<T>, name: &str) -> Result<T, Malformed> {
    v.ok_or_else(|| Malformed(format!("missing field `{name}`")))
}

fn hash(v: Option<Cow<'_, str>>, name: &str) -> Result<Hash, Malformed> {
    let s = required(v, name)?;
    Hash::parse(&s)
        .map_err(|e| Malformed(format!("`{name}`: {e}", e = attest_dsse::ErrorChain(&e))))
}

fn check_case(line: &[u8], proof: &mut Vec<Hash>) -> Result<Result<(), ProofError>, Malformed> {
    let case: Case<'_> = serde_json::from_slice(line)
        .map_err(|e| Malformed(format!("not a case: {e}", e = attest_dsse::ErrorChain(&e))))?;
    proof.clear();
    for (i, p) in case.proof.iter().flatten().enumerate() {
        proof.push(Hash::parse(p).map_err(|e| {
            Malformed(format!(
                "`proof[{i}]`: {e}",
                e = attest_dsse::ErrorChain(&e)
            ))
        })?);
    }
    match &*case.kind {
        "inclusion" => {
            let index = required(case.leaf_idx, "leafIdx")?;
            let size = required(case.tree_size, "treeSize")?;
            let leaf = hash(case.leaf_hash, "leafHash")?;
            let root = hash(case.root, "root")?;
            Ok(verify_inclusion(index, size, &leaf, proof, &root))
        }
        "consistency" => {
            let size1 = required(case.size1, "size1")?;
            let size2 = required(case.size2, "size2")?;
            let root1 = hash(case.root1, "root1")?;
            let root2 = hash(case.root2, "root2")?;
            Ok(verify_consistency(size1, size2, proof, &root1, &root2))
        }
        other => Err(Malformed(format!(
            "unknown type {other:?} (expected \"inclusion\" or \"consistency\")"
        ))),
    }
}

/// Lines handed to the workers at a time.
const BATCH_LINES: usize = 8192;

/// What verifying some lines produced: their output lines, in order, and
/// whether any failed or was malformed.
#[derive(Default)]
struct Outcome {
    out: Vec<u8>,
    any_failed: bool,
    any_malformed: bool,
}

fn verify_lines(lines: &[Vec<u8>]) -> io::Result<Outcome> {
    let mut o = Outcome::default();
    let mut proof = Vec::new();
    for line in lines {
        match check_case(trim_newline(line), &mut proof) {
            Ok(Ok(())) => o.out.extend_from_slice(b"{\"ok\":true}\n"),
            Ok(Err(e)) => {
                o.any_failed = true;
                write_failure(
                    &mut o.out,
                    e.kind(),
                    &attest_dsse::ErrorChain(&e).to_string(),
                )?;
            }
            Err(Malformed(detail)) => {
                o.any_malformed = true;
                write_failure(&mut o.out, "malformed", &detail)?;
            }
        }
    }
    Ok(o)
}

/// Verifies in batches, spread over the available cores; output order is
/// input order. Hashing is the cost, so this scales with cores.
fn verify(mut input: impl BufRead, out: impl Write) -> Result<ExitCode, Failure> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(BATCH_LINES);
    let (mut any_failed, mut any_malformed) = (false, false);
    let mut eof = false;
    while !eof {
        // Reuse line buffers across batches.
        let mut n = 0;
        while n < BATCH_LINES {
            if batch.len() == n {
                batch.push(Vec::new());
            }
            let line = &mut batch[n];
            line.clear();
            if input.read_until(b'\n', line)? == 0 {
                eof = true;
                break;
            }
            n += 1;
        }
        let lines = &batch[..n];
        let chunk = n.div_ceil(workers).max(1);
        let outcomes: Vec<io::Result<Outcome>> = std::thread::scope(|s| {
            let handles: Vec<_> = lines
                .chunks(chunk)
                .map(|c| s.spawn(move || verify_lines(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(io::Error::other("worker panicked")))
                })
                .collect()
        });
        for o in outcomes {
            let o = o?;
            any_failed |= o.any_failed;
            any_malformed |= o.any_malformed;
            out.write_all(&o.out)?;
        }
    }
    out.flush()?;
    Ok(if any_malformed {
        ExitCode::from(EXIT_BAD_INPUT)
    } else if any_failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_failure(out: &mut impl Write, kind: &str, detail: &str) -> io::Result<()> {
    out.write_all(b"{\"ok\":false,\"error\":\"")?;
    out.write_all(kind.as_bytes())?;
    out.write_all(b"\",\"detail\":")?;
    serde_json::to_writer(&mut *out, detail)?;
    out.write_all(b"}\n")
}
