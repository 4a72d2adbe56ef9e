-- Who came to a programme session's room, and how: one row per person and room, with the
-- first time they came in and the most present mode (0 view_only, 1 chat_only,
-- 2 participant). Only people who do not work here are recorded. Reports built from it are
-- aggregate and anonymous.
CREATE TABLE programme_attendance (
    room_id         TEXT NOT NULL REFERENCES rooms(id),
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    mode_rank       INTEGER NOT NULL,
    first_joined_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, account_id)
);
CREATE INDEX programme_attendance_account ON programme_attendance (account_id, first_joined_at);
CREATE INDEX programme_attendance_time ON programme_attendance (first_joined_at);

-- The most visitors at once in a room.
ALTER TABLE rooms ADD COLUMN peak INTEGER NOT NULL DEFAULT 0;
