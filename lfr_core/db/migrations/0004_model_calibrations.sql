-- Accuracy calibrations recorded by `lfr eval --record`: the non-mated top scores of an evaluation (scores
-- only, no templates), so a report can project false alerts for its own threshold and list size.
CREATE TABLE model_calibrations (
    id                   bigserial PRIMARY KEY,
    embedder_sha256      text NOT NULL,
    detector_sha256      text NOT NULL,
    model                jsonb NOT NULL,
    manifest             text NOT NULL,
    n_gallery            integer NOT NULL CHECK (n_gallery > 0),
    nonmated_top_scores  real[] NOT NULL CHECK (cardinality(nonmated_top_scores) > 0),
    summary              jsonb NOT NULL,
    recorded_by          text NOT NULL,
    recorded_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_calibrations_embedder ON model_calibrations (embedder_sha256, recorded_at DESC);
