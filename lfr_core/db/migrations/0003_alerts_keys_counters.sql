-- Alerts (only matched faces are ever stored), per-deployment counters (numbers only), API keys.
CREATE TABLE alerts (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    deployment_id       uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
    version_id          uuid NOT NULL REFERENCES watchlist_versions (id) ON DELETE RESTRICT,
    subject_ref         text NOT NULL,
    category            text NOT NULL,
    score               real NOT NULL,
    camera_id           text NOT NULL,
    track_id            text NOT NULL,
    captured_at         timestamptz NOT NULL,
    raised_at           timestamptz NOT NULL DEFAULT now(),
    probe_crop_uri      text,
    watchlist_image_uri text,
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'confirmed', 'declined', 'not_engaged')),
    adjudicated_by      text,
    adjudicated_at      timestamptz,
    outcome             text,
    legal_hold          boolean NOT NULL DEFAULT false
);
CREATE INDEX alerts_deployment ON alerts (deployment_id, raised_at);

CREATE TABLE deployment_counters (
    deployment_id   uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
    camera_id       text NOT NULL,
    frames          bigint NOT NULL DEFAULT 0,
    faces_seen      bigint NOT NULL DEFAULT 0,
    frames_refused  bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (deployment_id, camera_id)
);

CREATE TABLE api_keys (
    key_sha256     text PRIMARY KEY,
    name           text NOT NULL,
    role           text NOT NULL CHECK (role IN ('operator', 'planner', 'authoriser', 'admin', 'auditor')),
    deployment_id  uuid REFERENCES deployments (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);
