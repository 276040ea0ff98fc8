-- Certificate binding (security.md "Identity"): an organisation that registers
-- a client certificate is served only over mutual TLS with that certificate.

ALTER TABLE organisations ADD COLUMN client_certificate_sha256 TEXT NOT NULL DEFAULT '';
