-- Registry (一机一档, 备案, 目录): cameras and their change history, sites,
-- protected zones and consents, moves and removals, systems with their
-- archives, filings with the police, monitoring staff. Times are BIGINT
-- microseconds; calendar dates (commissioning, acceptance) are TEXT
-- "YYYY-MM-DD" as people enter them.

CREATE TABLE sites (
	id           TEXT PRIMARY KEY,
	unit_id      TEXT NOT NULL REFERENCES units(id),
	name         TEXT NOT NULL,
	category     TEXT NOT NULL,
	anti_terror  BOOLEAN NOT NULL DEFAULT FALSE,
	security_key BOOLEAN NOT NULL DEFAULT FALSE,
	public       BOOLEAN NOT NULL DEFAULT FALSE,
	address      TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX sites_unit ON sites(unit_id);

CREATE TABLE systems (
	id             TEXT PRIMARY KEY,
	unit_id        TEXT NOT NULL REFERENCES units(id),
	name           TEXT NOT NULL,
	in_use_on      TEXT NOT NULL DEFAULT '',
	accepted_on    TEXT NOT NULL DEFAULT '',
	retention_days INTEGER NOT NULL DEFAULT 0,
	companies      TEXT NOT NULL DEFAULT '[]',
	technicians    TEXT NOT NULL DEFAULT '[]',
	cancelled      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL
);
CREATE INDEX systems_unit ON systems(unit_id);

-- The one camera table of Vigil: the file (一机一档) and the stream settings
-- the recorder reads. code is the GB/T 28181 20-digit code.
CREATE TABLE cameras (
	id              TEXT PRIMARY KEY,
	code            TEXT NOT NULL UNIQUE,
	unit_id         TEXT NOT NULL REFERENCES units(id),
	name            TEXT NOT NULL,
	vendor          TEXT NOT NULL DEFAULT '',
	model           TEXT NOT NULL DEFAULT '',
	firmware        TEXT NOT NULL DEFAULT '',
	type            TEXT NOT NULL DEFAULT '',
	lat             DOUBLE PRECISION NOT NULL DEFAULT 0,
	lon             DOUBLE PRECISION NOT NULL DEFAULT 0,
	address         TEXT NOT NULL DEFAULT '',
	division        TEXT NOT NULL DEFAULT '',
	height          DOUBLE PRECISION NOT NULL DEFAULT 0,
	azimuth         DOUBLE PRECISION NOT NULL DEFAULT -1,
	fov             DOUBLE PRECISION NOT NULL DEFAULT 0,
	range_m         DOUBLE PRECISION NOT NULL DEFAULT 0,
	place_type      TEXT NOT NULL DEFAULT '',
	site_id         TEXT NOT NULL DEFAULT '',
	system_id       TEXT NOT NULL DEFAULT '',
	building_unit   TEXT NOT NULL DEFAULT '',
	operating_unit  TEXT NOT NULL DEFAULT '',
	contact_name    TEXT NOT NULL DEFAULT '',
	contact_phone   TEXT NOT NULL DEFAULT '',
	funding         TEXT NOT NULL DEFAULT '',
	commissioned_on TEXT NOT NULL DEFAULT '',
	accepted_on     TEXT NOT NULL DEFAULT '',
	filing_state    TEXT NOT NULL DEFAULT 'none',
	public          BOOLEAN NOT NULL DEFAULT FALSE,
	signage         BOOLEAN NOT NULL DEFAULT FALSE,
	extended        TEXT NOT NULL DEFAULT '{}',
	state           TEXT NOT NULL DEFAULT 'registered',
	source_url_enc  TEXT NOT NULL DEFAULT '',
	recording_mode  TEXT NOT NULL DEFAULT 'continuous',
	enabled         BOOLEAN NOT NULL DEFAULT TRUE,
	completeness    INTEGER NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);
CREATE INDEX cameras_unit ON cameras(unit_id);
CREATE INDEX cameras_site ON cameras(site_id);
CREATE INDEX cameras_system ON cameras(system_id);

-- Every change to every file: who, when, which field, old and new value.
CREATE TABLE camera_history (
	id         TEXT PRIMARY KEY,
	camera_id  TEXT NOT NULL,
	at         BIGINT NOT NULL,
	actor_id   TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	action     TEXT NOT NULL,
	field      TEXT NOT NULL,
	old_value  TEXT NOT NULL,
	new_value  TEXT NOT NULL
);
CREATE INDEX camera_history_camera ON camera_history(camera_id, at);

-- Protected zones (military zones, surroundings of classified units): a
-- polygon of WGS-84 [lon, lat] points as JSON.
CREATE TABLE protected_zones (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL,
	polygon    TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

-- Consent for a camera inside a protected zone, or the reason it is deemed.
CREATE TABLE zone_consents (
	id         TEXT PRIMARY KEY,
	zone_id    TEXT NOT NULL REFERENCES protected_zones(id),
	camera_id  TEXT NOT NULL REFERENCES cameras(id),
	basis      TEXT NOT NULL,
	reference  TEXT NOT NULL DEFAULT '',
	granted_by TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	UNIQUE (zone_id, camera_id)
);

-- Moves and removals of cameras (REG-12).
CREATE TABLE camera_moves (
	id               TEXT PRIMARY KEY,
	camera_id        TEXT NOT NULL REFERENCES cameras(id),
	kind             TEXT NOT NULL,
	replacement_plan TEXT NOT NULL DEFAULT '',
	consent_by       TEXT NOT NULL DEFAULT '',
	restore_by       TEXT NOT NULL DEFAULT '',
	restored_at      BIGINT NOT NULL DEFAULT 0,
	created_at       BIGINT NOT NULL,
	created_by       TEXT NOT NULL
);
CREATE INDEX camera_moves_camera ON camera_moves(camera_id);

-- Archive documents of a system (REG-10); bytes live in the attachment store.
CREATE TABLE attachments (
	id           TEXT PRIMARY KEY,
	system_id    TEXT NOT NULL REFERENCES systems(id),
	kind         TEXT NOT NULL,
	name         TEXT NOT NULL,
	size         BIGINT NOT NULL,
	content_type TEXT NOT NULL,
	sha256       TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	created_by   TEXT NOT NULL
);
CREATE INDEX attachments_system ON attachments(system_id);

-- Filings with the police (备案).
CREATE TABLE filings (
	id           TEXT PRIMARY KEY,
	system_id    TEXT NOT NULL REFERENCES systems(id),
	unit_id      TEXT NOT NULL REFERENCES units(id),
	kind         TEXT NOT NULL,
	state        TEXT NOT NULL,
	content      TEXT NOT NULL,
	submitted_at BIGINT NOT NULL,
	submitted_by TEXT NOT NULL,
	reviewed_at  BIGINT NOT NULL DEFAULT 0,
	reviewed_by  TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX filings_system ON filings(system_id, submitted_at);
CREATE INDEX filings_unit ON filings(unit_id);

-- Monitoring staff (REG-11).
CREATE TABLE monitor_staff (
	id                   TEXT PRIMARY KEY,
	unit_id              TEXT NOT NULL REFERENCES units(id),
	user_id              TEXT NOT NULL DEFAULT '',
	name                 TEXT NOT NULL,
	role                 TEXT NOT NULL,
	background_check_on  TEXT NOT NULL DEFAULT '',
	background_result    TEXT NOT NULL DEFAULT '',
	training_on          TEXT NOT NULL DEFAULT '',
	confidentiality_on   TEXT NOT NULL DEFAULT '',
	created_at           BIGINT NOT NULL,
	updated_at           BIGINT NOT NULL
);
CREATE INDEX monitor_staff_unit ON monitor_staff(unit_id);
