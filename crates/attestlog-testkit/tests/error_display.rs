//! No error of ours prints its cause in its own `Display`: a variant with a
//! `#[source]` / `#[from]` field (or a field named `source`) does not name
//! that field in its `#[error(...)]` message, so a chain printer
//! (`attest_dsse::ErrorChain`, `anyhow`'s `{:#}`) shows each cause once. A
//! variant that is only its cause is `#[error(transparent)]`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

/// The `(message, variant text)` of every `#[error(...)]` in `text`: the
/// variant runs to the next `#[error` or the end of the enum.
fn variants(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("#[error(") {
        let after = &rest[i + "#[error(".len()..];
        let Some(end) = after.find(")]\n") else { break };
        let message = after[..end].to_owned();
        let body = &after[end..];
        let stop = [body.find("#[error("), body.find("\n}\n")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(body.len());
        out.push((message, body[..stop].to_owned()));
        rest = &after[end..];
    }
    out
}

/// Whether `message` prints positional field 0 or the field `source`.
fn names_cause(message: &str, tuple: bool) -> bool {
    let field = if tuple { "{0" } else { "{source" };
    message.match_indices(field).any(|(i, _)| {
        let next = message[i + field.len()..].chars().next();
        matches!(next, Some('}' | ':'))
    })
}

#[test]
fn no_display_repeats_its_source() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut offenders = Vec::new();
    let mut with_source = 0;
    for krate in std::fs::read_dir(crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let files = attestlog_testkit::rust_files(&src);
        for p in files {
            let text = std::fs::read_to_string(&p).unwrap();
            for (message, body) in variants(&text) {
                if message.trim() == "transparent" {
                    continue;
                }
                let has_source = body.contains("#[source]")
                    || body.contains("#[from]")
                    || body.contains("source:");
                if !has_source {
                    continue;
                }
                with_source += 1;
                let tuple = body.trim_start().starts_with(')')
                    || body.lines().nth(1).is_some_and(|l| l.contains('('));
                if names_cause(&message, tuple) || names_cause(&message, !tuple) {
                    offenders.push(format!("{}: #[error({message})]", p.display()));
                }
            }
        }
    }
    assert!(
        with_source > 50,
        "the scan found only {with_source} variants with a source"
    );
    assert!(
        offenders.is_empty(),
        "these messages print their source (a chain printer would show it twice):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_scan_sees_a_repeated_source() {
    let text = "enum E {\n    /// x\n    #[error(\"reading: {0}\")]\n    Read(#[source] std::io::Error),\n    #[error(\"key {index}: {source}\")]\n    Key { index: usize, #[source] source: K },\n    #[error(\"fine\")]\n    Fine(#[from] F),\n}\n";
    let v = variants(text);
    assert_eq!(v.len(), 3);
    assert!(names_cause(&v[0].0, true));
    assert!(names_cause(&v[1].0, false));
    assert!(!names_cause(&v[2].0, true) && !names_cause(&v[2].0, false));
}
