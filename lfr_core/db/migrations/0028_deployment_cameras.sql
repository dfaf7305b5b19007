-- Cameras registered for a deployment (issue 32 item 3): each camera's resolution and horizontal field of view,
-- and the range computed from them (lfr_core/deployments/cameras.py camera_range) at the face size the
-- deployment's live gate runs at, with where that size came from, so the planner's view shows how far from each
-- camera a face can still be recognised. Numbers about a camera only: nothing of any face.
CREATE TABLE deployment_cameras (
    id              bigserial PRIMARY KEY,
    deployment_id   uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
    name            text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    width_px        integer NOT NULL CHECK (width_px > 0),
    height_px       integer NOT NULL CHECK (height_px > 0),
    hfov_deg        double precision NOT NULL CHECK (hfov_deg > 0 AND hfov_deg < 180),
    face_width_m    double precision NOT NULL CHECK (face_width_m > 0 AND face_width_m <= 1),
    face_px         integer NOT NULL CHECK (face_px > 0),
    face_px_source  text NOT NULL,
    max_distance_m  double precision NOT NULL CHECK (max_distance_m > 0),
    registered_by   text NOT NULL,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (deployment_id, name)
);
