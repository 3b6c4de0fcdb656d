//! Tiles over HTTP from the client's read URL, through its cache: each verified before any hash of it is used.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Tiles over HTTP from the client's read URL, through its cache.
pub struct HttpTiles<'a, T> {
    pub(super) client: &'a RekorV2Client<T>,
}

impl<T> std::fmt::Debug for HttpTiles<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTiles")
            .field("read_base", &self.client.read_base)
            .finish_non_exhaustive()
    }
}

impl<T: Transport + Sync> HttpTiles<'_, T> {
    pub(super) fn cached(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.client.cache.as_ref()?.join(path)).ok()
    }

    pub(super) fn keep(&self, path: &str, bytes: &[u8]) {
        let Some(dir) = &self.client.cache else {
            return;
        };
        let file = dir.join(path);
        // Best effort: a cache that cannot be written is only slower. The
        // file is written under a temporary name and renamed, so a reader
        // never sees half a tile (and would refuse one if it did).
        if let Some(parent) = file.parent()
            && std::fs::create_dir_all(parent).is_ok()
        {
            let tmp = file.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, &file);
            }
        }
    }

    /// A tile's bytes: the cache (unless `fresh`), else the read URL; a
    /// partial tile that is gone (the log grew) is cut from the full one.
    pub(super) fn fetch(
        &self,
        path: &str,
        full: &str,
        width: u16,
        hashed: bool,
        fresh: bool,
    ) -> Result<Vec<u8>, ClientError> {
        if !fresh && let Some(b) = self.cached(path) {
            return Ok(b);
        }
        match self.client.get(path) {
            Err(ClientError::Response {
                source: ResponseError::NotFound,
                ..
            }) if path != full => Ok(cut_from_full(&self.client.get(full)?, width, hashed)),
            other => other,
        }
    }
}

/// The first `width` length-prefixed entries of a full entry bundle (the
/// rest as is, for the verifier to refuse, if it is malformed).
pub(super) fn prefix_entries(bundle: &[u8], width: u16) -> Vec<u8> {
    let mut pos = 0usize;
    for _ in 0..width {
        let Some(len) = bundle.get(pos..pos + 2) else {
            return bundle.to_vec();
        };
        pos += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    bundle.get(..pos).unwrap_or(bundle).to_vec()
}

impl<T: Transport + Sync> TileSource for HttpTiles<'_, T> {
    type Error = ClientError;

    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, ClientError> {
        self.fetch(&tile.path(), &tile.full().path(), tile.width, true, fresh)
    }

    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, ClientError> {
        self.fetch(
            &tile.entries_path(),
            &tile.full().entries_path(),
            tile.width,
            false,
            fresh,
        )
    }

    fn verified_tile(&self, tile: TileId, bytes: &[u8]) {
        self.keep(&tile.path(), bytes);
    }

    fn verified_entry_bundle(&self, tile: TileId, bytes: &[u8]) {
        self.keep(&tile.entries_path(), bytes);
    }
}
