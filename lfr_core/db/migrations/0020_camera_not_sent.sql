-- The camera's own losses (issue 31 item 8): the frames a camera's feed read and did not send because it was
-- behind, as the camera reports them (lfr_core/live/wire.py NOT_SENT_HEADER). The console's tile said "0 dropped"
-- while the feed had not sent 13 of 33 frames: frames_dropped counts only what the service dropped.
ALTER TABLE deployment_counters
    ADD COLUMN frames_not_sent bigint NOT NULL DEFAULT 0 CHECK (frames_not_sent >= 0);
