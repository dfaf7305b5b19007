-- People assigned to a deployment: its operators (who see and decide its alerts) and authorisers.
-- Row-level security on alerts reads this table (lfr_core/db/policy.sql).
CREATE TABLE deployment_staff (
    deployment_id  uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
    person         text NOT NULL CHECK (person <> ''),
    role           text NOT NULL CHECK (role IN ('operator', 'authoriser')),
    assigned_by    text NOT NULL,
    assigned_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (deployment_id, person, role)
);

-- API keys belong to cameras and only post frames; people sign in (lfr_core/people.py).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE role <> 'operator';
UPDATE api_keys SET role = 'camera' WHERE role = 'operator';
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role = 'camera' OR revoked_at IS NOT NULL);
