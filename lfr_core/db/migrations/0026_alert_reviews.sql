-- Post-deployment review (issue 28 item 5): after the window, each true alert left unconfirmed and each false
-- alert is reviewed by an assigned reviewer, who records a finding. A review outlives its alert (retention deletes
-- alerts at 31 days; the deployment's record keeps its reviews), so it names the alert without a foreign key and
-- copies what the grid needs: the deployment and the alert's class when it was assigned.
CREATE TABLE alert_reviews (
    alert_id      uuid PRIMARY KEY,
    deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
    alert_class   text NOT NULL CHECK (alert_class IN ('true_unconfirmed', 'false_confirmed', 'false_unconfirmed')),
    reviewer      text NOT NULL,
    assigned_by   text NOT NULL,
    assigned_at   timestamptz NOT NULL DEFAULT now(),
    finding       text CHECK (length(btrim(finding)) > 0),
    reviewed_at   timestamptz,
    CHECK ((finding IS NULL) = (reviewed_at IS NULL))
);
CREATE INDEX alert_reviews_deployment ON alert_reviews (deployment_id);
