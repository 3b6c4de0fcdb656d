//! The top-level README's crate table names each crate's features: every
//! feature in the crate's `Cargo.toml` (but `default`) is in its row, every
//! feature in the row exists, and a row says "(default)" exactly for the
//! features on by default. A feature added or removed without the table is
//! a failure here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

/// The README's table: crate name → its features cell.
fn readme_rows(readme: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for line in readme.lines() {
        // | [`name`](crates/name) | what it is | features |
        let Some(rest) = line.strip_prefix("| [`") else {
            continue;
        };
        let Some((name, _)) = rest.split_once('`') else {
            continue;
        };
        if !line.contains("](crates/") {
            continue;
        }
        let cells: Vec<&str> = line.trim_end_matches('|').split(" | ").collect();
        let features = cells.last().unwrap().trim().to_owned();
        rows.push((name.to_owned(), features));
    }
    rows
}

/// The backticked names in a features cell, and which are marked
/// "(default)".
fn cell_features(cell: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut all = BTreeSet::new();
    let mut default = BTreeSet::new();
    let mut parts = cell.split('`');
    parts.next(); // before the first name
    while let (Some(name), Some(after)) = (parts.next(), parts.next()) {
        all.insert(name.to_owned());
        if after.trim_start().starts_with("(default)") {
            default.insert(name.to_owned());
        }
    }
    (all, default)
}

/// A crate's features and its default set, from its manifest.
fn manifest_features(manifest: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(manifest).unwrap();
    let doc: toml_edit::DocumentMut = text.parse().unwrap();
    let mut all = BTreeSet::new();
    let mut default = BTreeSet::new();
    if let Some(features) = doc.get("features").and_then(|f| f.as_table()) {
        for (name, value) in features {
            if name == "default" {
                for v in value.as_array().expect("default is an array") {
                    default.insert(v.as_str().unwrap().to_owned());
                }
            } else {
                all.insert(name.to_owned());
            }
        }
    }
    (all, default)
}

#[test]
fn the_readme_crate_table_lists_each_crates_features() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let rows = readme_rows(&readme);
    let mut crates: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("Cargo.toml").is_file() {
            crates.insert(dir.file_name().unwrap().to_str().unwrap().to_owned());
        }
    }
    let listed: BTreeSet<String> = rows.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        listed, crates,
        "the README's crate table and crates/ differ"
    );
    let mut wrong = Vec::new();
    for (name, cell) in &rows {
        let (features, default) =
            manifest_features(&root.join("crates").join(name).join("Cargo.toml"));
        let (said, said_default) = cell_features(cell);
        if said != features {
            wrong.push(format!(
                "{name}: the README says {said:?}, Cargo.toml has {features:?}"
            ));
        }
        if said_default != default {
            wrong.push(format!(
                "{name}: the README marks {said_default:?} as default, Cargo.toml has {default:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_cell_parser_reads_names_and_defaults() {
    let (all, default) = cell_features("`alloc` (default), `serde`");
    assert_eq!(all, BTreeSet::from(["alloc".into(), "serde".into()]));
    assert_eq!(default, BTreeSet::from(["alloc".into()]));
    assert!(cell_features("—").0.is_empty());
}
