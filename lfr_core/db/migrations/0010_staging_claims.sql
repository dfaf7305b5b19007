-- A staging folder of the sources bucket belongs to the first deployment that builds from it, so no other
-- deployment's manifest can read what was staged there (lfr_core/watchlist/sources.py).
CREATE TABLE staging_claims (
    folder        text PRIMARY KEY CHECK (folder LIKE 'staging/%/'),
    deployment_id uuid NOT NULL REFERENCES deployments (id),
    claimed_at    timestamptz NOT NULL DEFAULT now()
);
