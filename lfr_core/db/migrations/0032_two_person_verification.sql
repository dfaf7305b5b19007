-- Two-person verification (issue 28 item 2, AI Act Art 14(5)). Where the deployment's pack requires it
-- (policy_packs.content ->> 'two_person_verification'), an alert is verified only when two different officers
-- assigned to the deployment have each assessed it separately and both judged the match viable: the first
-- assessment is the alert's status (adjudicated_by, as before), the second is recorded here, in the second
-- officer's own name, without the first shown to them (ray_apps/ingress/console.py). No engagement result is
-- recorded before both (lfr_core/db/policy/50_alerts.sql). Deployments whose pack does not require it leave these
-- columns empty.
ALTER TABLE alerts
    ADD COLUMN second_status text CHECK (second_status IN ('confirmed', 'declined')),
    ADD COLUMN second_by     text,
    ADD COLUMN second_at     timestamptz,
    ADD CONSTRAINT alerts_second_whole CHECK (num_nulls(second_status, second_by, second_at) IN (0, 3)),
    ADD CONSTRAINT alerts_second_after_first CHECK (second_status IS NULL OR status <> 'pending'),
    ADD CONSTRAINT alerts_second_other_officer CHECK (second_by IS DISTINCT FROM adjudicated_by OR second_by IS NULL);
