//! Group commit, shared by both logs' sequencers: one writer thread takes
//! whatever is queued as one batch (one durable write, one signed
//! checkpoint), and gives each proposed entry its index — the index of the
//! identical entry already in the log or earlier in the batch, or the next
//! new one.

use std::collections::HashMap;
use std::sync::mpsc;

use attest_merkle::Hash;

/// The next batch from a writer's queue: the first job (waiting for it),
/// then whatever is queued now, at most `max` in all. `None` once every
/// sender is gone and the queue is empty.
pub(crate) fn next_batch<T>(rx: &mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let first = rx.recv().ok()?;
    let mut jobs = vec![first];
    while jobs.len() < max {
        match rx.try_recv() {
            Ok(j) => jobs.push(j),
            Err(_) => break,
        }
    }
    Some(jobs)
}

/// Where one job's entry landed in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Its index.
    pub(crate) index: u64,
    /// Whether this batch adds it (`false`: the log, or an earlier job of
    /// the batch, already has it).
    pub(crate) new: bool,
}

/// Each job's slot, in order: `existing` finds an identical entry already
/// in the log by leaf hash; an identical entry earlier in the batch shares
/// its slot; any other is new, and `stage` (called once per new entry, in
/// order) adds it and returns its index. A job whose `leaf` is `None` (a
/// log that does not deduplicate) is always new.
pub(crate) fn assign<J>(
    jobs: &mut [J],
    leaf: impl Fn(&J) -> Option<Hash>,
    existing: impl Fn(&Hash) -> Option<u64>,
    mut stage: impl FnMut(&mut J) -> u64,
) -> Vec<Slot> {
    let mut in_batch: HashMap<Hash, u64> = HashMap::new();
    jobs.iter_mut()
        .map(|job| {
            let leaf = leaf(job);
            let found = leaf.and_then(|l| existing(&l).or_else(|| in_batch.get(&l).copied()));
            match found {
                Some(index) => Slot { index, new: false },
                None => {
                    let index = stage(job);
                    if let Some(l) = leaf {
                        in_batch.insert(l, index);
                    }
                    Slot { index, new: true }
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_batch_is_what_is_queued_up_to_the_limit() {
        let (tx, rx) = mpsc::channel();
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(next_batch(&rx, 3), Some(vec![0, 1, 2]));
        assert_eq!(next_batch(&rx, 3), Some(vec![3, 4]));
        drop(tx);
        assert_eq!(next_batch(&rx, 3), None);
    }

    #[test]
    fn identical_entries_share_a_slot_in_the_log_or_the_batch() {
        let h = |b: u8| Hash([b; 32]);
        let mut jobs = vec![1u8, 2, 1, 9, 3];
        let mut next = 100;
        let slots = assign(
            &mut jobs,
            |j| Some(h(*j)),
            |leaf| (*leaf == h(9)).then_some(7),
            |_| {
                next += 1;
                next - 1
            },
        );
        let got: Vec<(u64, bool)> = slots.iter().map(|s| (s.index, s.new)).collect();
        assert_eq!(
            got,
            [
                (100, true),
                (101, true),
                (100, false),
                (7, false),
                (102, true)
            ]
        );
        // Without a leaf (no dedup), every job is new.
        let mut next = 0;
        let slots = assign(
            &mut jobs,
            |_| None,
            |_| Some(7),
            |_| {
                next += 1;
                next - 1
            },
        );
        assert!(
            slots
                .iter()
                .enumerate()
                .all(|(i, s)| s.new && s.index == i as u64)
        );
    }
}
