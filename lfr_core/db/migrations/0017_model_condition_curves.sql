-- Error rates by the conditions a camera imposes, recorded by `lfr eval --conditions ... --record` (issue 32
-- item 1): for one model (its identity in columns, as model_calibrations keeps it), FNIR, TPIR, FPIR, rank-1 and
-- the live gate's refusals at each face size, JPEG quality and blur, with intervals and per group. Rates and
-- counts only: no image, template or identity.
CREATE TABLE model_condition_curves (
    id                   bigserial PRIMARY KEY,
    embedder_name        text NOT NULL,
    embedder_version     text NOT NULL,
    embedder_sha256      text NOT NULL,
    embedding_dim        integer CHECK (embedding_dim > 0),
    detector_sha256      text NOT NULL,
    model                jsonb NOT NULL,
    calibration_id       bigint REFERENCES model_calibrations (id),
    manifest             text NOT NULL,
    seed                 integer NOT NULL,
    frame_width          integer NOT NULL CHECK (frame_width > 0),
    frame_height         integer NOT NULL CHECK (frame_height > 0),
    target_fpir          double precision NOT NULL CHECK (target_fpir > 0 AND target_fpir <= 1),
    operating_threshold  double precision NOT NULL,
    threshold_source     text NOT NULL,
    group_by             text NOT NULL,
    bootstrap            text NOT NULL,
    points               jsonb NOT NULL CHECK (jsonb_typeof(points) = 'array' AND jsonb_array_length(points) > 0),
    recorded_by          text NOT NULL,
    recorded_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_condition_curves_embedder ON model_condition_curves (embedder_sha256, recorded_at DESC);
