//! A scratch directory per fuzzing process (`-fork` starts many): the
//! directories of processes that are gone are removed first.

use std::path::PathBuf;

/// `$TMPDIR/<prefix><pid>`, empty.
pub fn dir(prefix: &str) -> PathBuf {
    let tmp = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for d in entries.flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(prefix)
                && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(d.path());
            }
        }
    }
    let dir = tmp.join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
