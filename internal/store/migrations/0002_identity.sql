-- Identity: the last TOTP time step accepted per user, so that a code
-- cannot be replayed inside its window.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
