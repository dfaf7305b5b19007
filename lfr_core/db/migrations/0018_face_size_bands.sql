-- Faces seen, by whether they could be recognised (issue 32 item 4): each camera's faces counted in four
-- exclusive bands of the face box's shorter side against the reliable size (lfr_core/deployments/cameras.py
-- reliable_face_px): refused by the live gate and narrower than the reliable size, refused by the gate at the
-- reliable size or wider (too uncertain a detection), admitted below the reliable size, and admitted at the
-- reliable size or wider (could have been recognised). The size the bands were counted against is kept with
-- them. Numbers only, as the other counters: no face, box or size of any one face.
ALTER TABLE deployment_counters
    ADD COLUMN faces_refused_small  bigint NOT NULL DEFAULT 0 CHECK (faces_refused_small >= 0),
    ADD COLUMN faces_refused_other  bigint NOT NULL DEFAULT 0 CHECK (faces_refused_other >= 0),
    ADD COLUMN faces_below_reliable bigint NOT NULL DEFAULT 0 CHECK (faces_below_reliable >= 0),
    ADD COLUMN faces_reliable       bigint NOT NULL DEFAULT 0 CHECK (faces_reliable >= 0),
    ADD COLUMN reliable_face_px     integer CHECK (reliable_face_px > 0);
