-- The verified transparency-log entry of each attestation. All entry columns
-- are set together (one UPDATE) or not at all; rekor_uuid is the 80-hex id.
ALTER TABLE attestations
    ADD COLUMN rekor_uuid TEXT,
    ADD COLUMN log_id TEXT,
    ADD COLUMN log_index BIGINT,
    ADD COLUMN shard_index BIGINT,
    ADD COLUMN integrated_time BIGINT,
    ADD COLUMN inclusion_proof BYTEA,
    ADD COLUMN checkpoint BYTEA,
    ADD COLUMN signed_entry_timestamp BYTEA,
    ADD CONSTRAINT attestations_entry_all_or_nothing CHECK (
        (rekor_uuid IS NULL) = (log_id IS NULL) AND (rekor_uuid IS NULL) = (log_index IS NULL)
        AND (rekor_uuid IS NULL) = (shard_index IS NULL) AND (rekor_uuid IS NULL) = (integrated_time IS NULL)
    );
CREATE UNIQUE INDEX attestations_by_rekor_uuid ON attestations (rekor_uuid) WHERE rekor_uuid IS NOT NULL;
CREATE INDEX attestations_pending ON attestations (seq) WHERE rekor_uuid IS NULL;
