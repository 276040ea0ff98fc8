-- The owner of a presented client certificate (store::directory,
-- `organisation_with_certificate`) is looked up on calls over mutual TLS by
-- organisations without a registered certificate: indexed, so that lookup does
-- not read the whole directory. Only organisations that registered one.
CREATE INDEX organisations_by_certificate ON organisations (client_certificate_sha256)
    WHERE client_certificate_sha256 <> '';
