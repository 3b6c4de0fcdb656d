-- Attestations as signed: the envelope bytes exactly as received.
CREATE TABLE attestations (
    seq            BIGSERIAL PRIMARY KEY,
    id             BYTEA   NOT NULL UNIQUE CHECK (octet_length(id) = 32),
    tenant         TEXT    NOT NULL CHECK (tenant <> ''),
    subject        TEXT    NOT NULL CHECK (subject <> ''),
    predicate_type TEXT    NOT NULL,
    envelope       BYTEA   NOT NULL,
    signer_key_ids TEXT    NOT NULL,
    claimed_time   BIGINT  NOT NULL
);
CREATE INDEX attestations_by_subject ON attestations (tenant, subject, seq);
CREATE INDEX attestations_by_tenant ON attestations (tenant, seq);
