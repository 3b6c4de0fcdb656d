-- The verified transparency-log entry of each attestation. All entry columns
-- are set together (one UPDATE) or not at all; rekor_uuid is the 80-hex id.
ALTER TABLE attestations ADD COLUMN rekor_uuid TEXT;
ALTER TABLE attestations ADD COLUMN log_id TEXT;
ALTER TABLE attestations ADD COLUMN log_index INTEGER;
ALTER TABLE attestations ADD COLUMN shard_index INTEGER;
ALTER TABLE attestations ADD COLUMN integrated_time INTEGER;
ALTER TABLE attestations ADD COLUMN inclusion_proof BLOB;
ALTER TABLE attestations ADD COLUMN checkpoint BLOB;
ALTER TABLE attestations ADD COLUMN signed_entry_timestamp BLOB;
CREATE UNIQUE INDEX attestations_by_rekor_uuid ON attestations (rekor_uuid) WHERE rekor_uuid IS NOT NULL;
CREATE INDEX attestations_pending ON attestations (seq) WHERE rekor_uuid IS NULL;
