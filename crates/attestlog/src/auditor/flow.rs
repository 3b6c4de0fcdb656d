//! The audit flows: rows by subject, by tenant a page at a time, and the log's state with its consistency against the baseline.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Core {
    pub(super) async fn audit(
        &self,
        tenant: &str,
        subject: &str,
    ) -> Result<Vec<AuditReport>, AuditError> {
        let (t, s) = (tenant.to_owned(), subject.to_owned());
        // A row that does not decode fails its own report; the others are
        // audited as usual.
        let rows = self
            .blocking
            .on(&self.store, move |store| store.by_subject_each(&t, &s))
            .await?;
        let state = self.log_state().await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(match row {
                Ok(row) => self.audit_row_with(row, &state).await,
                Err(corrupt) => AuditReport::corrupt_row(tenant, subject, corrupt),
            });
        }
        Ok(out)
    }

    pub(super) async fn audit_rows(
        &self,
        rows: &[AttestationRow],
    ) -> Result<Vec<AuditReport>, AuditError> {
        let state = self.log_state().await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.audit_row_with(r, &state).await);
        }
        Ok(out)
    }

    pub(super) async fn audit_tenant(
        &self,
        tenant: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<AuditReport>, AuditError> {
        let mut out = Vec::new();
        self.audit_tenant_each(tenant, |r| {
            out.push(r);
            progress(out.len());
        })
        .await?;
        Ok(out)
    }

    /// Every attestation of `tenant`, a page at a time, each report handed
    /// to `each` as soon as it is made; how many.
    pub(super) async fn audit_tenant_each(
        &self,
        tenant: &str,
        mut each: impl FnMut(AuditReport),
    ) -> Result<usize, AuditError> {
        let state = self.log_state().await?;
        let mut n = 0;
        let mut after = None;
        loop {
            let t = tenant.to_owned();
            // A row that does not decode fails its own report; the rest of
            // the tenant is audited.
            let page = self
                .blocking
                .on(&self.store, move |s| s.list_each(&t, after, 500))
                .await?;
            for r in &page.rows {
                each(match r {
                    Ok(row) => self.audit_row_with(row, &state).await,
                    Err(corrupt) => AuditReport::corrupt_row(
                        tenant,
                        corrupt.subject.as_deref().unwrap_or("(unreadable subject)"),
                        corrupt,
                    ),
                });
                n += 1;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(n),
            }
        }
    }

    pub(super) async fn audit_row(&self, row: &AttestationRow) -> Result<AuditReport, AuditError> {
        let state = self.log_state().await?;
        Ok(self.audit_row_with(row, &state).await)
    }

    /// Each log's current checkpoint and its consistency with the
    /// auditor's baseline; a consistent current checkpoint becomes the new
    /// baseline (a forked one never replaces it).
    pub(super) async fn log_state(&self) -> Result<LogState, AuditError> {
        let mut runs = Vec::with_capacity(self.audited.len());
        for audited in &self.audited {
            runs.push(self.log_run(audited).await?);
        }
        Ok(LogState { runs })
    }

    /// One log's current checkpoint and its consistency with the baseline
    /// (proven by the log: from its proof endpoint or its tiles).
    async fn log_run(&self, audited: &AuditedLog) -> Result<LogRun, AuditError> {
        let (log, verifier) = (&audited.log, &audited.verifier);
        let logs = log.trusted_logs();
        let name = match log.api() {
            LogApiVersion::V2 => "Rekor v2 log",
            _ => "log",
        };
        let unavailable = |why: String, logs| {
            Ok(LogRun {
                log: Arc::clone(log),
                logs,
                verifier: Arc::clone(verifier),
                current: Err(why.clone()),
                consistency: Err(why),
            })
        };
        let current = match log.checkpoint().await {
            Ok(cp) => cp,
            Err(e) => {
                return unavailable(
                    format!(
                        "the {name}'s current checkpoint: {e}",
                        e = attest_dsse::ErrorChain(&e)
                    ),
                    logs,
                );
            }
        };
        let Some(signer) = signer_of(verifier.checkpoints(), &logs, &current).cloned() else {
            return unavailable(
                format!("the current checkpoint verifies with no trusted {name} key"),
                logs,
            );
        };
        if let Some(policy) = &self.witnesses
            && let Err(e) = attest_rekor::SignedNote::parse(&current.note)
                .map_err(|e| e.to_string())
                .and_then(|n| {
                    policy
                        .verify(&n, self.clock.now().unix())
                        .map_err(|e| e.to_string())
                })
        {
            return unavailable(
                format!("the {name}'s current checkpoint is not witnessed: {e}"),
                logs,
            );
        }
        let log_key = log_key(&signer, &current);
        let consistency = self
            .consistency_of(&logs, verifier.checkpoints(), &log_key, &current, |old| {
                let current = &current;
                async move { log.prove_consistency(&old, current).await }
            })
            .await?;
        Ok(LogRun {
            log: Arc::clone(log),
            logs,
            verifier: Arc::clone(verifier),
            current: Ok((current, signer)),
            consistency,
        })
    }

    /// The consistency of `current` (filed under `log_key`) with the
    /// baseline — proven by `prove` from the kept checkpoint when the
    /// baseline alone cannot decide; a consistent `current` becomes the
    /// baseline (a forked one never replaces it).
    pub(super) async fn consistency_of<
        F: Future<Output = Result<(), rekor_client::ClientError>>,
    >(
        &self,
        logs: &[TrustedLog],
        memo: &CheckpointMemo,
        log_key: &str,
        current: &VerifiedCheckpoint,
        prove: impl FnOnce(VerifiedCheckpoint) -> F,
    ) -> Result<Result<String, String>, AuditError> {
        let key = log_key.to_owned();
        let kept = self
            .blocking
            .on(&self.baseline, move |b| b.load(&key))
            .await;
        let consistency = match self.baseline_step(kept, logs, memo, current) {
            BaselineStep::Done(r) => r,
            BaselineStep::Prove(old) => {
                let from = old.size;
                prove(old).await.map(|()| String::new()).map_err(|e| {
                    format!(
                        "from size {from} to {}: {e}",
                        current.size,
                        e = attest_dsse::ErrorChain(&e)
                    )
                })
            }
        };
        if consistency.is_ok() {
            let (key, note) = (log_key.to_owned(), current.note.clone());
            self.blocking
                .on(&self.baseline, move |b| b.store(&key, &note))
                .await?;
        }
        Ok(consistency)
    }
}
