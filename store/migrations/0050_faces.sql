-- Face gallery for entrance cameras: one row per resident, beside the pseudonymous resident id.
-- Embeddings are sealed (AES-256-GCM) by the vision service before they reach the database; the check below refuses
-- anything that is not a sealed blob, so plain vectors can never be written here by mistake. The key is a setting
-- (EW_FACE_KEY), never stored in the database.

CREATE TABLE face_gallery (
    resident_id  text PRIMARY KEY REFERENCES residents ON DELETE CASCADE,
    consent      boolean NOT NULL,            -- separate consent to face recognition (not the general one)
    consent_at   timestamptz,                 -- when it was given, or when it was refused
    model        text,                        -- embedder that made the vectors; another model is never matched
    embedding    bytea,                       -- sealed (K x D) float32 matrix: b"EWF1" + nonce + ciphertext + tag
    samples      integer,                     -- K: how many photos were embedded
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- with consent: a sealed embedding, its model and the consent time; a refusal is recorded with no face data
    CONSTRAINT face_gallery_consent_data CHECK (
        (consent AND consent_at IS NOT NULL AND model IS NOT NULL AND samples > 0
         AND embedding IS NOT NULL AND substring(embedding FROM 1 FOR 4) = '\x45574631'::bytea)
        OR (NOT consent AND embedding IS NULL AND model IS NULL AND samples IS NULL)
    )
);
CREATE INDEX face_gallery_model ON face_gallery (model) WHERE consent;

-- Enrolment photos, only where the estate configured keeping them; sealed like the embeddings.
CREATE TABLE face_photos (
    id           bigserial PRIMARY KEY,
    resident_id  text NOT NULL REFERENCES face_gallery ON DELETE CASCADE,
    photo        bytea NOT NULL CHECK (substring(photo FROM 1 FOR 4) = '\x45574631'::bytea),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX face_photos_resident ON face_photos (resident_id);

-- What was deleted and when: the pseudonymous id, the time and why, never any face data.
CREATE TABLE face_deletions (
    id           bigserial PRIMARY KEY,
    resident_id  text NOT NULL,
    deleted_at   timestamptz NOT NULL DEFAULT now(),
    reason       text NOT NULL CHECK (reason IN ('request', 'consent_withdrawn', 'moved_out', 'retention'))
);
CREATE INDEX face_deletions_resident ON face_deletions (resident_id, deleted_at DESC);
