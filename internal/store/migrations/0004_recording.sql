-- Recording (RET-1 … RET-6): the segment index with its hash chain, the
-- gaps the recorder marks, configured retention per camera, evidence holds.
-- Times are BIGINT microseconds since the Unix epoch (UTC).

-- One row per closed segment. hash is the file's hash (SHA-256 or SM3);
-- chain_hash covers this row's fields and prev_hash, the chain_hash of the
-- camera's previous row, so any altered, removed, inserted or reordered
-- row or file is detected. A row is never deleted: the retention engine
-- sets deleted_at when it removes the file (and audits it).
CREATE TABLE segments (
	camera_id   TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	stream_id   TEXT NOT NULL,
	start_us    BIGINT NOT NULL,
	end_us      BIGINT NOT NULL,
	bytes       BIGINT NOT NULL,
	codec       TEXT NOT NULL,
	width       INTEGER NOT NULL,
	height      INTEGER NOT NULL,
	storage_key TEXT NOT NULL,
	hash        TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	chain_hash  TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	deleted_at  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (camera_id, seq)
);
CREATE INDEX segments_camera_start ON segments(camera_id, start_us);
CREATE INDEX segments_end ON segments(end_us);

-- Gaps in a camera's recording and why: camera_offline, network, disk,
-- stopped. end_us is 0 while the gap is open.
CREATE TABLE recording_gaps (
	id        TEXT PRIMARY KEY,
	camera_id TEXT NOT NULL,
	start_us  BIGINT NOT NULL,
	end_us    BIGINT NOT NULL,
	cause     TEXT NOT NULL,
	detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recording_gaps_camera ON recording_gaps(camera_id, start_us);

-- A retention configured for a camera; never below the profile's minimum
-- for the camera's site (RET-1).
CREATE TABLE camera_retention (
	camera_id  TEXT PRIMARY KEY,
	days       INTEGER NOT NULL,
	set_by     TEXT NOT NULL,
	set_at     BIGINT NOT NULL
);

-- Evidence holds (RET-2): footage of a camera over a range kept until
-- until_us whatever its retention.
CREATE TABLE evidence_holds (
	id          TEXT PRIMARY KEY,
	camera_id   TEXT NOT NULL,
	start_us    BIGINT NOT NULL,
	end_us      BIGINT NOT NULL,
	reason      TEXT NOT NULL,
	case_number TEXT NOT NULL,
	until_us    BIGINT NOT NULL,
	created_by  TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	released_by TEXT NOT NULL DEFAULT '',
	released_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX evidence_holds_camera ON evidence_holds(camera_id, start_us);
