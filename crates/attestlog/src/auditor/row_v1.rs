//! Auditing a row published to a Rekor v1 log.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Core {
    pub(super) async fn audit_row_with(
        &self,
        row: &AttestationRow,
        state: &LogState,
    ) -> AuditReport {
        let a = &row.attestation;
        let mut r = AuditReport {
            attestation_id: a.id.to_string(),
            tenant: a.tenant.clone(),
            subject: a.subject.clone(),
            entry_id: row.entry.as_ref().map(|e| e.entry_id.clone()),
            signed: None,
            logged: None,
            checks: Vec::new(),
            fetched: None,
        };
        let env = match Envelope::from_json(&a.envelope) {
            Ok(e) => e,
            Err(e) => {
                r.push(
                    AuditCheck::AttestationId,
                    Err(format!(
                        "stored envelope unreadable: {e}",
                        e = attest_dsse::ErrorChain(&e)
                    )),
                );
                for &c in ALL_AFTER_ID {
                    r.skip(c, "the stored envelope is unreadable");
                }
                return r;
            }
        };
        // The id is re-derived from the envelope, never taken from the row.
        let derived = attestation_id_of(&env);
        r.push(
            AuditCheck::AttestationId,
            if derived == a.id {
                Ok(())
            } else {
                Err(format!(
                    "the row's id {} is not its envelope's {derived}",
                    a.id
                ))
            },
        );
        if let Some(stored) = row.entry.as_ref().filter(|e| e.api == LogApiVersion::V2) {
            return self.audit_v2_row(r, row, &env, stored, state).await;
        }
        // The entry is fetched first (its lines are written below): under an
        // identity policy the signing certificate is the one it records.
        let run = state.run(LogApiVersion::V1);
        let fetched = match (&row.entry, run) {
            (Some(stored), Some(run)) => Some(match run.log.read_entry(stored, None).await {
                Ok(ReadEntry::V1(e)) => Ok(*e),
                Ok(ReadEntry::V2 { .. }) => Err("the log answered with a Rekor v2 entry".into()),
                Err(e) => Err(e),
            }),
            _ => None,
        };
        let certificate = match &fetched {
            Some(Ok(e)) => attest_rekor::logged_certificate_der(e),
            _ => None,
        };
        // Without a valid signature nothing the payload says is trusted (no
        // binding, no claimed time), but the log's evidence is still checked.
        let claimed = self.signature_then_binding(&mut r, &env, certificate.as_deref(), |r, p| {
            binding_check(r, p, row)
        });

        // The log's evidence.
        let (Some(stored), Some(run), Some(fetched)) = (&row.entry, run, fetched) else {
            let why = if row.entry.is_none() {
                "not published: the row is pending"
            } else {
                "no transparency log configured"
            };
            for &c in ALL_LOG_CHECKS {
                r.skip(c, why);
            }
            return r;
        };
        let entry = match fetched {
            Ok(e) => {
                r.push(AuditCheck::EntryFetched, Ok(()));
                r.logged = Some(LoggedFacts::of(&e));
                r.fetched = Some(Box::new(Fetched::V1(e.clone())));
                e
            }
            Err(e) => {
                r.push(AuditCheck::EntryFetched, Err(e));
                for &c in &ALL_LOG_CHECKS[1..] {
                    r.skip(c, "the entry could not be fetched");
                }
                self.certificate_line(&mut r, None);
                return r;
            }
        };
        r.push(AuditCheck::StoredEntry, stored_copies(stored, &entry));
        let logs = &run.logs;
        let result = run
            .verifier
            .verify_log_entry(&entry, &env, &self.policy(claimed));
        let report = report_of(&result);
        r.push(
            AuditCheck::BodyMatch,
            from_rekor(report, &[Check::BodyMatch]),
        );
        let prefix = proof_lines(report).and_then(|()| {
            let (current, _) = run.current.as_ref().map_err(Clone::clone)?;
            let note = entry
                .inclusion_proof
                .as_ref()
                .and_then(|p| p.checkpoint.as_deref())
                .ok_or("the entry has no checkpoint")?;
            let entry_cp = verified_checkpoint(run.verifier.checkpoints(), logs, note)
                .ok_or("the entry's checkpoint does not verify")?;
            if entry_cp.origin != current.origin {
                return Err("the entry's checkpoint is for another tree".into());
            }
            if entry_cp.size > current.size {
                return Err("the entry's checkpoint is ahead of the current one".into());
            }
            Ok((entry_cp, current))
        });
        let inclusion = match prefix {
            Err(e) => Err(e),
            Ok((entry_cp, current)) => {
                run.log
                    .prove_consistency(&entry_cp, current)
                    .await
                    .map_err(|e| {
                        format!(
                            "the entry's tree is not a prefix of the current tree: {e}",
                            e = attest_dsse::ErrorChain(&e)
                        )
                    })
            }
        };
        r.push(AuditCheck::Inclusion, inclusion);
        match &run.consistency {
            Ok(note) => r.push_note(AuditCheck::Consistency, note),
            Err(e) => r.push(AuditCheck::Consistency, Err(e.clone())),
        }
        self.certificate_line(&mut r, Some(report));
        Self::time_lines(&mut r, report, claimed, &V1_TIME);
        r
    }
}
