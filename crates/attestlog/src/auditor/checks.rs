//! The lines every row shares: signature, binding, certificate, time, and the baseline's verdict.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Which audit line authenticates an entry's time, from which checks of
/// the rekor report, and what the lines after it say when it fails.
pub(super) struct TimeLine {
    pub(super) check: AuditCheck,
    /// The line saying the signing key was valid at that time.
    pub(super) key_valid: AuditCheck,
    pub(super) from: &'static [Check],
    pub(super) unverified: &'static str,
}

/// Rekor v1: the SET authenticates integratedTime.
pub(super) const V1_TIME: TimeLine = TimeLine {
    check: AuditCheck::Set,
    key_valid: AuditCheck::KeyValidAtIntegratedTime,
    from: &[Check::LogKey, Check::IntegratedTime, Check::Set],
    unverified: "integratedTime is not authenticated (SET)",
};

/// Rekor v2: an RFC 3161 timestamp is the entry's time.
pub(super) const V2_TIME: TimeLine = TimeLine {
    check: AuditCheck::Timestamp,
    key_valid: AuditCheck::KeyValidAtTimestamp,
    from: &[Check::Timestamp, Check::Time, Check::LogKey],
    unverified: "the entry's time is not verified (RFC 3161 timestamp)",
};

impl Core {
    /// What the auditor's baseline (`kept`: the checkpoint it holds for
    /// the log, as loaded) says of `current` (the log's verified checkpoint).
    pub(super) fn baseline_step(
        &self,
        kept: Result<Option<String>, BaselineError>,
        logs: &[TrustedLog],
        memo: &CheckpointMemo,
        current: &VerifiedCheckpoint,
    ) -> BaselineStep {
        BaselineStep::Done(match kept {
            Err(e) => Err(format!("{e}", e = attest_dsse::ErrorChain(&e))),
            Ok(None) if self.trust_current_tree => Ok(format!(
                "no baseline: started one at tree size {} (trusted on first use, not proven)",
                current.size
            )),
            Ok(None) => Err(
                "no baseline: run with `--trust-current-tree` once to start one \
                 (`AuditorBuilder::trust_current_tree`)"
                    .into(),
            ),
            Ok(Some(text)) => match verified_checkpoint(memo, logs, &text) {
                None => {
                    Err("the baseline checkpoint does not verify with the trusted log keys".into())
                }
                Some(old) if old.origin != current.origin => {
                    Err("the baseline checkpoint is for another tree".into())
                }
                Some(old) if old.size > current.size => Err(format!(
                    "the log shrank from {} to {} entries",
                    old.size, current.size
                )),
                // The empty tree is a prefix of every tree.
                Some(old) if old.size == 0 => Ok(String::new()),
                Some(old) => return BaselineStep::Prove(old),
            },
        })
    }

    /// Who the auditor trusts to sign, now.
    pub(super) fn signer(&self) -> std::sync::RwLockReadGuard<'_, SignerPolicy> {
        // A poisoned lock still holds a whole policy: it is only ever
        // replaced, never changed in place.
        self.signer.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn set_signer(&self, signer: SignerPolicy) {
        *self.signer.write().unwrap_or_else(PoisonError::into_inner) = signer;
    }

    /// The policy for this auditor's evidence: its key set, its clock, and
    /// the signed claimed time within its window.
    pub(super) fn policy(&self, claimed: Option<i64>) -> Policy {
        let policy = Policy::new(self.signer().clone(), self.clock.now());
        match claimed {
            Some(t) => policy.with_claimed_time(t, self.window),
            None => policy,
        }
    }

    /// A verifier trusting `logs` and the auditor's authorities (shared
    /// with every other verifier of this auditor, warm after first use).
    pub(super) fn verifier(&self, logs: Vec<TrustedLog>) -> Verifier {
        Verifier::new(
            logs.into_iter()
                .fold(self.authorities.clone(), TrustedRoot::with_log),
        )
    }

    /// The envelope-signature line, then the binding line from the signed
    /// payload (skipped when the signature does not verify: nothing the
    /// payload says is trusted then); returns the signed claimed time.
    pub(super) fn signature_then_binding(
        &self,
        r: &mut AuditReport,
        env: &Envelope,
        certificate: Option<&[u8]>,
        binding: impl FnOnce(&mut AuditReport, &Statement) -> Option<i64>,
    ) -> Option<i64> {
        match self.signature_any_time(env, certificate) {
            Ok((payload, signer_key_id)) => {
                r.push(AuditCheck::EnvelopeSignature, Ok(()));
                // The payload is parsed once, for the binding line and the
                // facts the report shows.
                let (claimed, statement) = match Statement::from_json(&payload) {
                    Ok(s) => (binding(r, &s), Some(s)),
                    Err(e) => {
                        r.push(
                            AuditCheck::Binding,
                            Err(format!(
                                "the payload is not an in-toto statement: {e}",
                                e = attest_dsse::ErrorChain(&e)
                            )),
                        );
                        (None, None)
                    }
                };
                let digest = statement
                    .as_ref()
                    .and_then(|s| {
                        s.subject
                            .iter()
                            .find(|x| x.annotations.contains_key(binding::SUBJECT))
                            .or_else(|| s.subject.first())
                    })
                    .map(|x| x.digest.clone())
                    .unwrap_or_default();
                r.signed = Some(SignedFacts {
                    signer_key_id,
                    predicate_type: statement.map(|s| s.predicate_type),
                    claimed_time: claimed,
                    digest,
                });
                claimed
            }
            Err(e) => {
                r.push(AuditCheck::EnvelopeSignature, Err(e));
                r.skip(
                    AuditCheck::Binding,
                    "the envelope signature does not verify",
                );
                None
            }
        }
    }

    /// The envelope's signature by a key the policy names, time aside
    /// (validity at the log's time, and a certificate's trust, are their own
    /// lines); the verified payload and the id of the key that verified it.
    pub(super) fn signature_any_time(
        &self,
        env: &Envelope,
        certificate: Option<&[u8]>,
    ) -> Result<(Vec<u8>, String), String> {
        let keys: Vec<(attest_dsse::PublicKey, String)> = match &*self.signer() {
            SignerPolicy::Key(k) => vec![(k.clone(), k.key_id())],
            SignerPolicy::KeySet(set) => set
                .keys
                .iter()
                .map(|k| (k.key.clone(), k.id.clone()))
                .collect(),
            SignerPolicy::CertificateIdentity(_) => {
                let der = certificate.ok_or(
                    "no signing certificate: an identity policy reads it from the bundle or the published log entry",
                )?;
                let key = attest_rekor::x509::certificate_public_key(der).map_err(|e| {
                    format!(
                        "the signing certificate: {e}",
                        e = attest_dsse::ErrorChain(&e)
                    )
                })?;
                let id = key.key_id();
                vec![(key, id)]
            }
            _ => return Err("unsupported signer policy".into()),
        };
        let pae = env.pae();
        keys.into_iter()
            .find(|(k, _)| env.signatures().iter().any(|s| k.verifies(&pae, &s.sig)))
            .map(|(_, id)| (env.payload_unverified().to_vec(), id))
            .ok_or_else(|| "no key the policy trusts signed the envelope".into())
    }

    /// Identity policy only: the certificate line, from the rekor report
    /// (chain, SCT, identity), or failed when there is none.
    pub(super) fn certificate_line(&self, r: &mut AuditReport, report: Option<&Report>) {
        if !matches!(*self.signer(), SignerPolicy::CertificateIdentity(_)) {
            return;
        }
        let res = match report {
            Some(report) => from_rekor(
                report,
                &[
                    Check::CertificateChain,
                    Check::Sct,
                    Check::CertificateIdentity,
                ],
            ),
            None => Err("no verified log evidence to establish the certificate at".into()),
        };
        r.push(AuditCheck::Certificate, res);
    }

    /// set (v2: timestamp), key-valid-at-integrated-time (v2:
    /// key-valid-at-timestamp), not-backdated from the rekor report (the
    /// entry's time is trusted only once its line passed).
    pub(super) fn time_lines(
        r: &mut AuditReport,
        report: &Report,
        claimed: Option<i64>,
        time: &TimeLine,
    ) {
        r.push(time.check, from_rekor(report, time.from));
        if r.outcome(time.check) != Some(Outcome::Passed) {
            r.skip(time.key_valid, time.unverified);
            r.skip(AuditCheck::NotBackdated, time.unverified);
            return;
        }
        if r.outcome(AuditCheck::EnvelopeSignature) != Some(Outcome::Passed) {
            let why = "the envelope signature does not verify";
            r.skip(time.key_valid, why);
            r.skip(AuditCheck::NotBackdated, why);
            return;
        }
        let window_hint = " (was the key-set document made after the attestation? `keys serve-doc --valid-from` sets a new key's window start)";
        r.push(
            time.key_valid,
            from_rekor(report, &[Check::Signature, Check::SignerValidity]).map_err(|m| {
                let outside = report
                    .checks
                    .iter()
                    .any(|c| c.check == Check::SignerValidity && c.outcome == Outcome::Failed);
                if outside {
                    format!("{m}{window_hint}")
                } else {
                    m
                }
            }),
        );
        match claimed {
            Some(_) => r.push(
                AuditCheck::NotBackdated,
                from_rekor(report, &[Check::NotBackdated]),
            ),
            None => r.skip(
                AuditCheck::NotBackdated,
                "the statement carries no claimed time",
            ),
        }
    }

    /// The offline audit of a bundle: the same evidence lines from the
    /// bundle's own checkpoint, with binding read from the statement; no
    /// log to fetch from and no baseline, so `entry-fetched`,
    /// `stored-entry` and `consistency` are not part of this policy.
    pub(super) fn audit_bundle(&self, bundle: &Bundle, logs: &[TrustedLog]) -> AuditReport {
        let mut r = AuditReport {
            attestation_id: String::new(),
            tenant: String::new(),
            subject: String::new(),
            entry_id: None,
            signed: None,
            logged: None,
            checks: Vec::new(),
            fetched: None,
        };
        let env = match bundle.envelope() {
            Ok(Some(e)) => e,
            Ok(None) => {
                r.push(
                    AuditCheck::EnvelopeSignature,
                    Err("the bundle has no DSSE envelope".into()),
                );
                return r;
            }
            Err(e) => {
                r.push(
                    AuditCheck::EnvelopeSignature,
                    Err(attest_dsse::ErrorChain(&e).to_string()),
                );
                return r;
            }
        };
        r.attestation_id = attestation_id_of(&env).to_string();
        let certificate = bundle
            .certificate_chain_der()
            .ok()
            .flatten()
            .and_then(|c| c.into_iter().next());
        let claimed =
            self.signature_then_binding(&mut r, &env, certificate.as_deref(), bundle_binding);
        let result = self
            .verifier(logs.to_vec())
            .verify_envelope(bundle, &self.policy(claimed));
        let report = report_of(&result);
        r.push(
            AuditCheck::BodyMatch,
            from_rekor(report, &[Check::BodyMatch]),
        );
        r.push(AuditCheck::Inclusion, proof_lines(report));
        self.certificate_line(&mut r, Some(report));
        Self::time_lines(&mut r, report, claimed, &V1_TIME);
        r
    }
}
