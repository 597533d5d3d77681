-- ONVIF (MED-3): where a camera's ONVIF device service answers and the
-- account PTZ commands use. The password is sealed with the keyring (AAD
-- "cameras.onvif_password:<id>") like source_url_enc, and never returned.
ALTER TABLE cameras ADD COLUMN onvif_url TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN onvif_user TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN onvif_password_enc TEXT NOT NULL DEFAULT '';
