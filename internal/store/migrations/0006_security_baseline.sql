-- Security baseline for classified protection level 3 (AUD-2).
-- authenticated_at: when the session's holder last proved who they are
-- (sign-in or re-authentication); sensitive actions need it recent.
ALTER TABLE sessions ADD COLUMN authenticated_at BIGINT NOT NULL DEFAULT 0;
-- The hashes of a user's recent passwords, newest last, so that a new
-- password cannot be one of the last password.history.
CREATE TABLE password_history (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES users(id),
	password_hash TEXT NOT NULL,
	set_at        BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, set_at);
