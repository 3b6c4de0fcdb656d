//! The tile log's sequencer: one thread integrating batches — journaled and synced first, then tiles, bundles and the checkpoint published — and the partial tiles a full one supersedes.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) struct Job {
    pub(super) body: Vec<u8>,
    /// Called once with the outcome, on the sequencer thread (a channel
    /// send: a blocking waiter's or an async task's).
    pub(super) reply: Box<dyn FnOnce(Result<Integrated, TileLogError>) + Send>,
}

pub(super) struct Sequencer {
    pub(super) store: Arc<dyn TileStore>,
    /// The id this sequencer claimed the store with.
    pub(super) owner: String,
    pub(super) journal: Journal,
    /// The log's `published` marker.
    pub(super) published: recover::PublishedMarker,
    pub(super) key: SigningKey,
    pub(super) name: String,
    pub(super) key_id: [u8; 4],
    pub(super) tree: MerkleTree,
    /// The entries of the current partial bundle.
    pub(super) edge: Vec<Vec<u8>>,
    /// The most recent entries' leaf hashes, for deduplication.
    pub(super) recent: dedup::Recent,
    /// Whether to deduplicate within a batch too (`dedup_window > 0`).
    pub(super) dedup: bool,
    /// The widths written of each tile that is still partial: once the
    /// full tile is published, these files are deleted (readers that ask
    /// for them get 404 and read the full tile, as C2SP tlog-tiles says).
    pub(super) partials: BTreeMap<(u8, u64), Vec<u16>>,
    pub(super) head: Arc<RwLock<String>>,
}

/// The paths of a superseded partial tile (and, at level 0, its bundle).
pub(super) fn superseded(level: u8, index: u64, width: u16) -> Vec<String> {
    let t = TileId {
        level,
        index,
        width,
    };
    if level == 0 {
        vec![t.path(), t.entries_path()]
    } else {
        vec![t.path()]
    }
}

/// The checkpoint body for `size` and `root` under `name`.
pub(super) fn checkpoint_text(name: &str, size: u64, root: &Hash) -> String {
    format!("{name}\n{size}\n{}\n", root.base64())
}

impl Sequencer {
    pub(super) fn put(&self, path: &str, bytes: &[u8]) -> Result<(), SequencerError> {
        self.store
            .put(path, bytes)
            .map_err(|source| SequencerError::Write {
                path: path.to_owned(),
                source,
            })
    }

    /// Integrates one batch durably; the checkpoint text.
    pub(super) fn integrate(&mut self, bodies: Vec<Vec<u8>>) -> Result<String, SequencerError> {
        let old = self.tree.size();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for b in &bodies {
            self.tree.push(b);
            self.edge.push(b.clone());
            if self.edge.len() == usize::from(TILE_WIDTH) {
                let index = (self.tree.size() - 1) >> 8;
                files.push(self.bundle(index)?);
                self.edge.clear();
            }
        }
        let new = self.tree.size();
        if !self.edge.is_empty() {
            files.push(self.bundle(new >> 8)?);
        }
        // Every tile whose contents changed, at each level; the partial
        // versions of those that are full now become garbage.
        let mut garbage = Vec::new();
        for level in 0..=attest_merkle::tiles::MAX_TILE_LEVEL {
            let shift = u32::from(level) * 8;
            let (m_old, m_new) = (old >> shift, new >> shift);
            if m_new == m_old {
                continue;
            }
            for index in (m_old >> 8)..=((m_new - 1) >> 8) {
                if let Some(tile) = tile_in_tree(level, index, new) {
                    files.push((tile.path(), tile_bytes(&self.tree, tile)));
                    if tile.is_partial() {
                        self.partials
                            .entry((level, index))
                            .or_default()
                            .push(tile.width);
                    } else {
                        for width in self.partials.remove(&(level, index)).unwrap_or_default() {
                            garbage.push(superseded(level, index, width));
                        }
                    }
                }
            }
        }
        let text = checkpoint_text(&self.name, new, &self.tree.root());
        let note = SignedNote::sign(&text, &self.name, self.key_id, &self.key)
            .map_err(SequencerError::Sign)?
            .to_text();
        // Still ours? (A sequencer whose store was taken over stops here,
        // before it journals or writes anything.)
        self.store
            .check_claim(&self.owner)
            .map_err(SequencerError::Fenced)?;
        // The journal first: once it is synced the batch is the log's.
        let path = self.journal.path().to_owned();
        let journal_err = |source| SequencerError::Journal { path, source };
        let appended =
            journal::encode(old, &bodies, &note).and_then(|record| self.journal.append(&record));
        appended.map_err(journal_err)?;
        // Then the public files, the checkpoint naming them last.
        self.store
            .put_all(&files)
            .map_err(SequencerError::WriteTiles)?;
        self.put("checkpoint", note.as_bytes())?;
        self.published.set(new).map_err(SequencerError::Published)?;
        // Only now that a published checkpoint names the full tiles. A
        // failure leaves garbage, not damage: opening collects it.
        for paths in garbage {
            for p in paths {
                let _ = self.store.delete(&p);
            }
        }
        *self.head.write().unwrap_or_else(PoisonError::into_inner) = note.clone();
        Ok(note)
    }

    pub(super) fn bundle(&self, index: u64) -> Result<(String, Vec<u8>), SequencerError> {
        let mut bytes = Vec::new();
        for e in &self.edge {
            push_bundle_entry(&mut bytes, e).map_err(SequencerError::Bundle)?;
        }
        let id = TileId {
            level: 0,
            index,
            width: self.edge.len() as u16,
        };
        Ok((id.entries_path(), bytes))
    }

    pub(super) fn run(mut self, rx: mpsc::Receiver<Job>, max_batch: usize) {
        while let Some(mut jobs) = crate::group_commit::next_batch(&rx, max_batch) {
            let first_index = self.tree.size();
            // Each job's index: an identical recent entry's (or one earlier
            // in this batch), else the next new one; without dedup, every
            // job is new.
            let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(jobs.len());
            let (recent, tree, dedup) = (&self.recent, &self.tree, self.dedup);
            let slots = crate::group_commit::assign(
                &mut jobs,
                |job| dedup.then(|| leaf_hash(&job.body)),
                |leaf| recent.find(leaf, tree),
                |job| {
                    bodies.push(std::mem::take(&mut job.body));
                    first_index + bodies.len() as u64 - 1
                },
            );
            let indices: Vec<(u64, bool)> = slots.iter().map(|s| (s.index, !s.new)).collect();
            let result = if bodies.is_empty() {
                // Only duplicates: the current checkpoint covers them.
                Ok(self
                    .head
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone())
            } else {
                self.integrate(bodies)
            };
            match result {
                Ok(note) => {
                    self.recent.extend(first_index, &self.tree);
                    let size = self.tree.size();
                    let root = self.tree.root();
                    for (job, (index, existing)) in jobs.into_iter().zip(indices) {
                        // The entry is durable either way; a writer without
                        // its proof is told so rather than handed none.
                        match self.tree.inclusion_proof(index, size) {
                            Ok(p) => (job.reply)(Ok(Integrated {
                                index,
                                proof: p.to_vec(),
                                checkpoint: note.clone(),
                                tree_size: size,
                                root,
                                existing,
                            })),
                            Err(source) => (job.reply)(Err(TileLogError::NoProof {
                                index,
                                size,
                                source,
                            })),
                        }
                    }
                }
                Err(e) => {
                    // The in-memory tree is ahead of what is durable: stop,
                    // and let a reopen recover from the files.
                    let e = Arc::new(e);
                    for job in jobs {
                        (job.reply)(Err(TileLogError::Stopped(Arc::clone(&e))));
                    }
                    for job in rx.try_iter() {
                        (job.reply)(Err(TileLogError::Stopped(Arc::clone(&e))));
                    }
                    return;
                }
            }
        }
    }
}
