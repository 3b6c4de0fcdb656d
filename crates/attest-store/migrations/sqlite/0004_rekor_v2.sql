-- Rekor v2 entries: which API an entry was published through (1 or 2; read
-- only when rekor_uuid is set) and, for v2, the RFC 3161 timestamp response
-- that times it. A v2 entry's rekor_uuid is its 64-hex leaf hash.
ALTER TABLE attestations ADD COLUMN log_api INTEGER NOT NULL DEFAULT 1 CHECK (log_api IN (1, 2));
ALTER TABLE attestations ADD COLUMN rfc3161_timestamp BLOB;
