-- The token that replaced a rotated one, so that a rotation whose answer was lost (a reload in
-- the middle of it) can be told from a stolen copy within a short grace period.
ALTER TABLE refresh_tokens ADD COLUMN replaced_by TEXT;
