//! `attestlog store …`: read the attestation store.

use std::process::ExitCode;

use attest_store::{AttestationId, AttestationRow};
use clap::Subcommand;

use crate::Failure;
use crate::cmd::{DbArg, print_json};
use crate::failure::EXIT_FAILED;

/// `attestlog store` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// List a tenant's attestations: `{"rows":[…],"next":SEQ|null}`.
    List {
        #[command(flatten)]
        db: DbArg,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Only rows still waiting for publication.
        #[arg(long)]
        pending: bool,
        /// Continue after this sequence number (the `next` of a previous page).
        #[arg(long)]
        after: Option<u64>,
        /// Rows per page.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Show one attestation, with its envelope and log entry.
    Show {
        #[command(flatten)]
        db: DbArg,
        /// The attestation id (64 hex).
        id: String,
    },
}

fn open(db: &DbArg) -> Result<Box<dyn attest_store::AttestationStore>, Failure> {
    crate::cmd::open_existing_store(&db.db, crate::cmd::Access::Read)
}

fn summary(row: &AttestationRow) -> Result<serde_json::Value, Failure> {
    Ok(serde_json::to_value(row).map_err(std::io::Error::from)?)
}

pub(crate) fn run(cmd: StoreCommand) -> Result<ExitCode, Failure> {
    match cmd {
        StoreCommand::List {
            db,
            tenant,
            pending,
            after,
            limit,
        } => {
            let store = open(&db)?;
            let fail = |e: attest_store::StoreError| Failure {
                code: EXIT_FAILED,
                message: attest_dsse::ErrorChain(&e).to_string(),
            };
            let (rows, next) = if pending {
                (store.pending(Some(&tenant), limit).map_err(fail)?, None)
            } else {
                let page = store.list(&tenant, after, limit).map_err(fail)?;
                (page.rows, page.next)
            };
            let rows = rows.iter().map(summary).collect::<Result<Vec<_>, _>>()?;
            print_json(&serde_json::json!({ "rows": rows, "next": next }))
        }
        StoreCommand::Show { db, id } => {
            let id = AttestationId::from_hex(&id).map_err(Failure::error)?;
            let store = open(&db)?;
            let row = store
                .get(&id)
                .map_err(|e| Failure {
                    code: EXIT_FAILED,
                    message: attest_dsse::ErrorChain(&e).to_string(),
                })?
                .ok_or_else(|| Failure {
                    code: EXIT_FAILED,
                    message: format!("no attestation {id}"),
                })?;
            let mut v = summary(&row)?;
            let envelope = &row.attestation.envelope;
            v["envelope"] = serde_json::from_slice(envelope).unwrap_or_else(|_| {
                use base64ct::Encoding;
                base64ct::Base64::encode_string(envelope).into()
            });
            print_json(&v)
        }
    }
}
