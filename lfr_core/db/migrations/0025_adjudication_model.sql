-- The adjudication model of the published grids (issue 28 item 1). An officer's decision is in three steps:
--   1. the viability assessment, comparing the probe with the watchlist face: status 'confirmed' (the match is
--      viable) or 'declined' (not viable);
--   2. for a viable match, the engagement result: engagement 'subject' (engaged, the person is the subject),
--      'someone_else' (engaged, the person is someone else), 'evaded' (the subject evaded officers) or
--      'not_engaged' (officers decided not to engage);
--   3. after an engagement (subject or someone_else), its outcome: disposal 'arrest', 'other' or 'no_action'.
-- The Met's four counts follow: true alert confirmed = subject; true alert unconfirmed = evaded or not_engaged;
-- false alert confirmed = someone_else; false alert unconfirmed = declined.
--
-- Today's decisions move as lfr_legacy_decision says (the same table as lfr_core/alerts/model.py LEGACY_*):
--   status not_engaged                 -> confirmed, engagement not_engaged (by the decider, at the decision)
--   engagement arrested                -> engagement subject, disposal arrest
--   engagement spoken_to               -> engagement subject, disposal other
--   engagement no_further_action       -> engagement subject, disposal no_action
--   engagement misidentified           -> engagement someone_else, disposal no_action
--   confirmed and declined otherwise   -> unchanged
-- Nothing is lost: each moved row keeps what it held in migrated_from, and the audit log keeps its actions as
-- they were written (the public results replay them through the same table).
ALTER TABLE alerts ADD COLUMN disposal text CHECK (disposal IN ('arrest', 'other', 'no_action'));
ALTER TABLE alerts ADD COLUMN migrated_from jsonb;

CREATE FUNCTION public.lfr_legacy_decision(p_status text, p_engagement text,
                                           OUT status text, OUT engagement text, OUT disposal text)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN p_status = 'not_engaged' THEN 'confirmed' ELSE p_status END,
           CASE WHEN p_status = 'not_engaged' THEN 'not_engaged'
                WHEN p_engagement IN ('arrested', 'spoken_to', 'no_further_action') THEN 'subject'
                WHEN p_engagement = 'misidentified' THEN 'someone_else'
                ELSE p_engagement END,
           CASE p_engagement WHEN 'arrested' THEN 'arrest' WHEN 'spoken_to' THEN 'other'
                             WHEN 'no_further_action' THEN 'no_action' WHEN 'misidentified' THEN 'no_action' END
$$;

ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts DROP CONSTRAINT alerts_engagement_check;

-- The move is the migration's, not a person's decision: the guard and audit triggers (policy/50_alerts.sql) would
-- refuse it or log it as a new decision, so the table's triggers are paused for this statement (as its owner).
ALTER TABLE alerts DISABLE TRIGGER USER;
UPDATE alerts a SET migrated_from = jsonb_build_object('status', a.status, 'engagement', a.engagement),
                    (status, engagement, disposal) = (SELECT m.status, m.engagement, m.disposal
                                                      FROM public.lfr_legacy_decision(a.status, a.engagement) AS m),
                    engagement_by = coalesce(a.engagement_by, a.adjudicated_by),
                    engagement_at = coalesce(a.engagement_at, a.adjudicated_at)
WHERE a.status = 'not_engaged' OR a.engagement IS NOT NULL;
ALTER TABLE alerts ENABLE TRIGGER USER;

ALTER TABLE alerts ADD CONSTRAINT alerts_status_check CHECK (status IN ('pending', 'confirmed', 'declined'));
ALTER TABLE alerts ADD CONSTRAINT alerts_engagement_check
    CHECK (engagement IN ('subject', 'someone_else', 'evaded', 'not_engaged'));
-- An outcome exactly when the person was engaged.
ALTER TABLE alerts ADD CONSTRAINT alerts_disposal_when_engaged
    CHECK ((disposal IS NOT NULL) = coalesce(engagement IN ('subject', 'someone_else'), false));
