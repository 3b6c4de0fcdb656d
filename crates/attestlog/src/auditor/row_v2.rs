//! Auditing a row published to a Rekor v2 log: the entry from tiles, the stored timestamp.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Core {
    /// A row published to a Rekor v2 log: the entry read from tiles at the
    /// stored index, a `TransparencyLogEntry` assembled from it with a proof
    /// to the log's current checkpoint, and the bundle of the stored
    /// envelope, that entry and the stored timestamp verified as a whole.
    pub(super) async fn audit_v2_row(
        &self,
        mut r: AuditReport,
        row: &AttestationRow,
        env: &Envelope,
        stored: &LogEntryRecord,
        state: &LogState,
    ) -> AuditReport {
        // No certificate: a v2 row's signer is named by key.
        let claimed =
            self.signature_then_binding(&mut r, env, None, |r, p| binding_check(r, p, row));
        let skip_rest = |r: &mut AuditReport, from: usize, why: &str| {
            for &c in &V2_LOG_CHECKS[from..] {
                r.skip(c, why);
            }
            self.certificate_line(r, None);
        };
        let Some(st) = state.run(LogApiVersion::V2) else {
            skip_rest(
                &mut r,
                0,
                "a Rekor v2 entry, and no Rekor v2 log configured (--rekor-url URL --rekor-api 2, \
                 or REKOR_URL and REKOR_API=2; in code, AuditorBuilder::log)",
            );
            return r;
        };
        let (current, log) = match &st.current {
            Ok(c) => c,
            Err(e) => {
                r.push(AuditCheck::EntryFetched, Err(e.clone()));
                skip_rest(&mut r, 1, "the log's current checkpoint is unavailable");
                return r;
            }
        };
        let index = stored.global_index;
        let body = match st.log.read_entry(stored, Some(current)).await {
            Ok(ReadEntry::V2 { body, proof }) => Ok((body, *proof)),
            Ok(ReadEntry::V1(_)) => Err("the log answered with a Rekor v1 entry".to_owned()),
            Err(e) => Err(e),
        };
        let (body, proof) = match body {
            Ok(b) => {
                r.push(AuditCheck::EntryFetched, Ok(()));
                b
            }
            Err(e) => {
                r.push(AuditCheck::EntryFetched, Err(e));
                skip_rest(&mut r, 1, "the entry could not be fetched");
                return r;
            }
        };
        let entry = attest_rekor::v2::tlog_entry(
            &log.log_id,
            index,
            &body,
            current,
            proof.as_ref().ok().map(attest_merkle::Proof::as_slice),
        );
        let timestamps: &[Vec<u8>] = if stored.timestamp.is_empty() {
            &[]
        } else {
            std::slice::from_ref(&stored.timestamp)
        };
        let bundle = Bundle::v03_dsse(
            VerificationMaterial::with_key_hint(
                row.attestation
                    .signer_key_ids
                    .first()
                    .cloned()
                    .unwrap_or_default(),
                vec![entry.clone()],
            )
            .with_rfc3161_timestamps(timestamps),
            &row.attestation.envelope,
        );
        let result = bundle.map(|b| st.verifier.verify_envelope(&b, &self.policy(claimed)));
        // The stored timestamp's time, when it verifies (signed by the TSA,
        // so the store's copy is as good as any): from the verification, or
        // — when that failed for another reason — checked alone.
        let stamped = match &result {
            Ok(Ok(v)) => v
                .times
                .iter()
                .filter(|t| matches!(t.source, attest_rekor::verify::TimeSource::Rfc3161 { .. }))
                .map(|t| t.at.unix())
                .min(),
            _ => env.signatures().first().and_then(|sig| {
                let a = self.authorities.authorities();
                let token = timestamps.first()?;
                attest_rekor::tsp::verify_timestamp(token, &sig.sig, &a.timestamp_authorities)
                    .ok()
                    .map(|t| t.gen_time.unix())
            }),
        };
        r.logged = Some(LoggedFacts {
            api_version: 2,
            entry_id: stored.entry_id.clone(),
            uuid: stored.entry_id.clone(),
            log_id: log.log_id_hex(),
            log_index: index,
            shard_index: index,
            integrated_time: stamped,
        });
        r.fetched = Some(Box::new(Fetched::V2 {
            entry,
            timestamp: stored.timestamp.clone(),
        }));
        r.push(
            AuditCheck::StoredEntry,
            stored_copies_v2(stored, log, index, stamped),
        );
        let result = match result {
            Ok(res) => res,
            Err(e) => {
                r.push(
                    AuditCheck::BodyMatch,
                    Err(format!(
                        "the stored envelope: {e}",
                        e = attest_dsse::ErrorChain(&e)
                    )),
                );
                skip_rest(&mut r, 3, "the stored envelope cannot be verified");
                return r;
            }
        };
        let report = report_of(&result);
        r.push(
            AuditCheck::BodyMatch,
            from_rekor(report, &[Check::BodyMatch]),
        );
        r.push(
            AuditCheck::Inclusion,
            match &proof {
                Err(e) => Err(format!(
                    "from the log's tiles: {e}",
                    e = attest_dsse::ErrorChain(&e)
                )),
                Ok(_) => proof_lines(report),
            },
        );
        match &st.consistency {
            Ok(note) => r.push_note(AuditCheck::Consistency, note),
            Err(e) => r.push(AuditCheck::Consistency, Err(e.clone())),
        }
        self.certificate_line(&mut r, Some(report));
        if self.authorities.authorities().is_empty() {
            r.push(
                AuditCheck::Timestamp,
                Err("no timestamp authorities to verify it with \
                     (a trusted root listing them: --trusted-root or REKOR_TRUSTED_ROOT; \
                     in code, AuditorBuilder::authorities)"
                    .into()),
            );
            r.skip(V2_TIME.key_valid, V2_TIME.unverified);
            r.skip(AuditCheck::NotBackdated, V2_TIME.unverified);
            return r;
        }
        Self::time_lines(&mut r, report, claimed, &V2_TIME);
        r
    }
}
