//! A log entry's evidence: log key, SET and integrated time (v1), checkpoint and inclusion.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A report and its first failure, as it is written.
#[derive(Default)]
pub(super) struct Rec {
    pub(super) report: Report,
    pub(super) first: Option<CheckError>,
}

impl Rec {
    pub(super) fn push(&mut self, check: Check, res: Result<(), CheckError>) -> bool {
        if let Err(e) = &res {
            self.first.get_or_insert_with(|| e.clone());
        }
        self.report.push(check, res)
    }

    /// The failure (fails closed: a report without a failed line that still
    /// lacks an element is [`Reason::Incomplete`]).
    pub(super) fn into_error(self) -> NotVerified {
        NotVerified {
            first: self
                .first
                .unwrap_or_else(|| fail(Check::Time, Reason::Incomplete)),
            report: self.report,
        }
    }
}

/// What the log evidence of one entry established.
#[derive(Default)]
pub(super) struct Evidence {
    pub(super) body: Option<Vec<u8>>,
    pub(super) entry: Option<VerifiedEntry>,
    pub(super) time: Option<VerifiedTime>,
    pub(super) log: Option<TrustedLog>,
}

/// Log key, time evidence by the log's API, checkpoint, inclusion.
pub(super) fn evidence(
    r: &mut Rec,
    entry: &TlogEntry,
    logs: &[TrustedLog],
    now: Timestamp,
    memo: Option<&CheckpointMemo>,
    bundle_v01: bool,
) -> Evidence {
    let mut out = Evidence::default();
    let parsed = (|| {
        let body = b64("canonicalizedBody", &entry.canonicalized_body)?;
        let log_id = b64("logId.keyId", &entry.log_id.key_id)?;
        let global = int0("logIndex", &entry.log_index)?;
        let integrated = int0(
            "integratedTime",
            entry.integrated_time.as_deref().unwrap_or(""),
        )?;
        Ok::<_, crate::BundleError>((body, log_id, global, integrated))
    })();
    let (body, log_id, global, integrated) = match parsed {
        Ok(v) => v,
        Err(e) => {
            r.push(
                Check::LogKey,
                Err(fail(Check::LogKey, Reason::Entry(Arc::new(e)))),
            );
            return out;
        }
    };
    out.body = Some(body.clone());
    let log = match find_log(logs, &log_id) {
        Ok(l) => l,
        Err(e) => {
            r.push(Check::LogKey, Err(e));
            return out;
        }
    };
    out.log = Some(log.clone());
    let mut ok = true;

    // Time evidence, by the trusted log's API.
    let set = entry
        .inclusion_promise
        .as_ref()
        .map(|p| p.signed_entry_timestamp.as_str())
        .filter(|s| !s.is_empty());
    let mut integrated_time = None;
    match log.api {
        LogApi::V1 => {
            let res = match (integrated, set) {
                (0, _) => Err(fail(Check::Set, Reason::NoIntegratedTime)),
                (_, None) => Err(fail(Check::Set, Reason::NoSet)),
                (t, Some(set)) => i64::try_from(t)
                    .map_err(|_| fail(Check::Set, Reason::IntegratedTimeRange(t)))
                    .and_then(|t| {
                        let sig = crate::b64::decode(set)
                            .map_err(|_| fail(Check::Set, Reason::SetEncoding))?;
                        verify_set(log, &entry.canonicalized_body, t, global, &sig)?;
                        Ok(t)
                    }),
            };
            match res {
                Ok(t) => {
                    r.push(Check::Set, Ok(()));
                    ok &= r.push(Check::IntegratedTime, check_integrated_time(t, now));
                    ok &= r.push(Check::LogKey, check_log_key_valid(log, t));
                    integrated_time = Some(t);
                    out.time = Some(VerifiedTime {
                        at: Timestamp::from_unix(t),
                        source: TimeSource::IntegratedTime { log_id: log.log_id },
                    });
                }
                Err(e) => {
                    ok = false;
                    r.push(Check::Set, Err(e));
                }
            }
        }
        LogApi::V2 => {
            // A Rekor v2 entry has no time of its own; what integratedTime or
            // SET a bundle carries for it is unsigned and ignored.
            if bundle_v01 {
                ok &= r.push(Check::Set, Err(fail(Check::Set, Reason::BundleV01NeedsSet)));
            }
        }
    }

    // Checkpoint and inclusion.
    let Some(p) = &entry.inclusion_proof else {
        r.push(
            Check::Inclusion,
            Err(fail(Check::Inclusion, Reason::NoInclusionProof)),
        );
        return out;
    };
    if p.checkpoint.envelope.is_empty() {
        r.push(
            Check::CheckpointSignature,
            Err(fail(Check::CheckpointSignature, Reason::NoCheckpoint)),
        );
        return out;
    }
    let cp = match memo {
        Some(m) => m.verify(&p.checkpoint.envelope, log),
        None => verify_checkpoint(&p.checkpoint.envelope, log),
    };
    let cp = match cp {
        Ok(cp) => {
            r.push(Check::CheckpointSignature, Ok(()));
            cp
        }
        Err(e) => {
            r.push(Check::CheckpointSignature, Err(e));
            return out;
        }
    };
    if log.witnesses.is_some() {
        ok &= r.push(
            Check::Witnesses,
            verify_witnesses(&p.checkpoint.envelope, log, now).map(drop),
        );
    }
    let proof = (|| {
        let index = int0("inclusionProof.logIndex", &p.log_index)?;
        let size = int0("inclusionProof.treeSize", &p.tree_size)?;
        let hash = |field: &'static str, s: &str| {
            attest_merkle::Hash::from_slice(&b64(field, s)?).ok_or(crate::BundleError::Field {
                field,
                reason: crate::reason::FieldProblem::Not32Bytes,
            })
        };
        let root = hash("inclusionProof.rootHash", &p.root_hash)?;
        let hashes = p
            .hashes
            .iter()
            .map(|h| hash("inclusionProof.hashes", h))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, crate::BundleError>((index, size, root, hashes))
    })();
    let (index, size, root, hashes) = match proof {
        Ok(v) => v,
        Err(e) => {
            r.push(
                Check::Inclusion,
                Err(fail(Check::Inclusion, Reason::ProofEncoding(Arc::new(e)))),
            );
            return out;
        }
    };
    match verify_inclusion_in(&cp, &body, index, size, &root, &hashes) {
        Err(e) if e.check == Check::CheckpointBinding => {
            r.push(Check::CheckpointBinding, Err(e));
            return out;
        }
        res => {
            r.push(Check::CheckpointBinding, Ok(()));
            // A Rekor v2 log has one index, which nothing but the proof
            // authenticates: the entry's must be the proof's.
            let res = res.and_then(|()| match log.api {
                LogApi::V2 if global != index => Err(fail(
                    Check::Inclusion,
                    Reason::LogIndexMismatch {
                        entry: global,
                        proof: index,
                    },
                )),
                _ => Ok(()),
            });
            ok &= r.push(Check::Inclusion, res);
        }
    }
    if ok {
        out.entry = Some(VerifiedEntry {
            log_id: log.log_id,
            api: log.api,
            log_index: global,
            tree_index: index,
            checkpoint: cp,
            integrated_time,
        });
    }
    out
}
