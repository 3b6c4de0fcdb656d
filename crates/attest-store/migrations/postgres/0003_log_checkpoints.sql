-- The auditor's memory: the last verified checkpoint of each log.
CREATE TABLE log_checkpoints (
    log_id     TEXT    PRIMARY KEY,
    tree_size  BIGINT  NOT NULL CHECK (tree_size >= 0),
    checkpoint BYTEA    NOT NULL
);
