-- Hosts' controls of a room: a pinned notice, and stage mode (only hosts, staff and people
-- given a voice write).
ALTER TABLE rooms ADD COLUMN pinned TEXT;
ALTER TABLE rooms ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;
