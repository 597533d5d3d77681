-- Foundation: units, people, roles, sessions, tokens, the audit chain and the
-- access registry (调用登记). Times are BIGINT microseconds since the epoch.

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- Units form a tree (city → district → unit). path is the chain of ids from
-- the root, "/root/…/id/", so a subtree is one prefix query.
CREATE TABLE units (
	id         TEXT PRIMARY KEY,
	parent_id  TEXT REFERENCES units(id),
	path       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL,
	division   TEXT NOT NULL DEFAULT '',
	contact    TEXT NOT NULL DEFAULT '',
	phone      TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX units_parent ON units(parent_id);

CREATE TABLE users (
	id                  TEXT PRIMARY KEY,
	username            TEXT NOT NULL UNIQUE,
	name                TEXT NOT NULL,
	unit_id             TEXT NOT NULL REFERENCES units(id),
	post                TEXT NOT NULL DEFAULT '',
	phone               TEXT NOT NULL DEFAULT '',
	id_number_enc       TEXT NOT NULL DEFAULT '',
	id_number_masked    TEXT NOT NULL DEFAULT '',
	status              TEXT NOT NULL DEFAULT 'active',
	password_hash       TEXT NOT NULL DEFAULT '',
	password_changed_at BIGINT NOT NULL DEFAULT 0,
	must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
	failed_logins       INTEGER NOT NULL DEFAULT 0,
	locked_until        BIGINT NOT NULL DEFAULT 0,
	totp_secret_enc     TEXT NOT NULL DEFAULT '',
	totp_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
	oidc_issuer         TEXT NOT NULL DEFAULT '',
	oidc_subject        TEXT NOT NULL DEFAULT '',
	standing_purpose    TEXT NOT NULL DEFAULT '',
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL
);
CREATE INDEX users_unit ON users(unit_id);
CREATE INDEX users_oidc ON users(oidc_issuer, oidc_subject);

CREATE TABLE roles (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	permissions TEXT NOT NULL,
	builtin     BOOLEAN NOT NULL DEFAULT FALSE,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

-- A grant gives a user a role over a unit subtree (scope_unit_id and below).
CREATE TABLE role_grants (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES users(id),
	role_id       TEXT NOT NULL REFERENCES roles(id),
	scope_unit_id TEXT NOT NULL REFERENCES units(id),
	created_at    BIGINT NOT NULL,
	created_by    TEXT NOT NULL DEFAULT '',
	UNIQUE (user_id, role_id, scope_unit_id)
);
CREATE INDEX role_grants_user ON role_grants(user_id);

CREATE TABLE sessions (
	id_hash      TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id),
	csrf         TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	remote       TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT '',
	method       TEXT NOT NULL DEFAULT 'password'
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id),
	name         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	scopes       TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL DEFAULT 0,
	last_used_at BIGINT NOT NULL DEFAULT 0,
	revoked_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- The audit chain: entry n holds hash(n-1). audit_head holds the signed
-- latest (seq, hash); audit_checkpoints hold signed points left by pruning.
CREATE TABLE audit_entries (
	seq        BIGINT PRIMARY KEY,
	at         BIGINT NOT NULL,
	actor_id   TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	actor_unit TEXT NOT NULL,
	action     TEXT NOT NULL,
	object     TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	remote     TEXT NOT NULL,
	details    TEXT NOT NULL,
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL
);
CREATE INDEX audit_entries_at ON audit_entries(at);
CREATE INDEX audit_entries_actor ON audit_entries(actor_id, at);
CREATE INDEX audit_entries_action ON audit_entries(action, at);

CREATE TABLE audit_head (
	id         INTEGER PRIMARY KEY,
	seq        BIGINT NOT NULL,
	hash       TEXT NOT NULL,
	signature  TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE audit_checkpoints (
	seq          BIGINT PRIMARY KEY,
	hash         TEXT NOT NULL,
	at           BIGINT NOT NULL,
	pruned_count BIGINT NOT NULL,
	signature    TEXT NOT NULL
);

-- The access registry (调用登记): one row per gate decision on video.
CREATE TABLE access_records (
	id          TEXT PRIMARY KEY,
	at          BIGINT NOT NULL,
	user_id     TEXT NOT NULL,
	user_name   TEXT NOT NULL,
	unit_id     TEXT NOT NULL,
	unit_name   TEXT NOT NULL,
	action      TEXT NOT NULL,
	method      TEXT NOT NULL,
	cameras     TEXT NOT NULL,
	range_start BIGINT NOT NULL DEFAULT 0,
	range_end   BIGINT NOT NULL DEFAULT 0,
	purpose     TEXT NOT NULL,
	decision    TEXT NOT NULL,
	obligations TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	copies_to   TEXT NOT NULL DEFAULT '',
	remote      TEXT NOT NULL DEFAULT '',
	ended_at    BIGINT NOT NULL DEFAULT 0,
	audit_seq   BIGINT NOT NULL
);
CREATE INDEX access_records_at ON access_records(at);
CREATE INDEX access_records_user ON access_records(user_id, at);
