//! The sequencer: batches of proposed entries integrated and made durable, one signed checkpoint per batch.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Shared {
    pub(crate) fn head(&self) -> Arc<Head> {
        Arc::clone(&self.head.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn lookup(&self, uuid: &Hash) -> Option<u64> {
        self.uuids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(uuid)
            .copied()
    }

    /// Signs the checkpoint of (`size`, `root`). A note that cannot be
    /// signed (a name from an older `log.json` that a note cannot carry) is
    /// an error: the log never publishes a head without its signature.
    pub(crate) fn sign_head(&self, size: u64, root: Hash) -> Result<Head, attest_rekor::NoteError> {
        let text = format!("{}\n{size}\n{}\n", self.origin, root.base64());
        let checkpoint =
            SignedNote::sign(&text, &self.name, self.note_key_id, &self.key)?.to_text();
        Ok(Head {
            size,
            root,
            checkpoint,
        })
    }

    /// The writer: takes every waiting job, stages them, commits once, then
    /// publishes the new head and answers.
    pub(crate) fn write_loop(&self, mut tail: storage::Tail, rx: &mpsc::Receiver<Job>) {
        let mut failed: Option<String> = None;
        self.write_batches(&mut tail, rx, &mut failed);
        // Closed: leave the derived files durable, so the next open is quick.
        if failed.is_none() {
            let _ = self.files.sync_derived(&mut tail);
        }
    }

    pub(crate) fn write_batches(
        &self,
        tail: &mut storage::Tail,
        rx: &mpsc::Receiver<Job>,
        failed: &mut Option<String>,
    ) {
        while let Some(mut jobs) = crate::group_commit::next_batch(rx, self.options.max_batch) {
            if let Some(why) = failed.as_ref() {
                for j in jobs {
                    (j.reply)(Done::Failed(why.clone()));
                }
                continue;
            }
            let now = self.options.clock.now().unix();
            let mut batch = storage::Batch::default();
            let slots = {
                let uuids = self.uuids.read().unwrap_or_else(PoisonError::into_inner);
                crate::group_commit::assign(
                    &mut jobs,
                    |j| Some(j.leaf),
                    |leaf| uuids.get(leaf).copied(),
                    |j| tail.stage(&mut batch, &j.body, j.leaf, now),
                )
            };
            let staged: HashMap<Hash, u64> = jobs
                .iter()
                .zip(&slots)
                .filter(|(_, s)| s.new)
                .map(|(j, s)| (j.leaf, s.index))
                .collect();
            let outcome: Vec<(u64, bool)> = slots.iter().map(|s| (s.index, s.new)).collect();
            if !staged.is_empty() {
                self.commits
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if let Err(e) = self.files.commit(tail, &mut batch) {
                let why = format!(
                    "the log's storage failed; reopen the log: {e}",
                    e = attest_dsse::ErrorChain(&e)
                );
                for j in jobs {
                    (j.reply)(Done::Failed(why.clone()));
                }
                *failed = Some(why);
                continue;
            }
            let head = if staged.is_empty() {
                self.head()
            } else {
                self.uuids
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(staged.iter().map(|(k, v)| (*k, *v)));
                let signed = self
                    .sign_head(tail.size(), tail.root())
                    .map_err(|e| {
                        format!(
                            "the log cannot sign its checkpoint; reopen it: {e}",
                            e = attest_dsse::ErrorChain(&e)
                        )
                    })
                    .and_then(|head| {
                        // Durable before anything is acknowledged: its size is
                        // what the next open holds the records to.
                        self.files
                            .write_checkpoint(tail, &head.checkpoint)
                            .and_then(|()| self.files.maybe_sync_derived(tail))
                            .map(|()| head)
                            .map_err(|e| {
                                format!(
                                    "the log's storage failed; reopen the log: {e}",
                                    e = attest_dsse::ErrorChain(&e)
                                )
                            })
                    });
                match signed {
                    Ok(head) => {
                        let head = Arc::new(head);
                        *self.head.write().unwrap_or_else(PoisonError::into_inner) =
                            Arc::clone(&head);
                        head
                    }
                    Err(why) => {
                        for j in jobs {
                            (j.reply)(Done::Failed(why.clone()));
                        }
                        *failed = Some(why);
                        continue;
                    }
                }
            };
            for (j, (index, new)) in jobs.into_iter().zip(outcome) {
                let done = if new {
                    Done::Created {
                        index,
                        head: Arc::clone(&head),
                    }
                } else {
                    Done::Exists { index }
                };
                (j.reply)(done);
            }
        }
    }
}
