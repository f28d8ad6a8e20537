-- One row per user and integration event: event_id is the CloudEvent id, so a redelivered event finds its row
-- (INSERT … ON CONFLICT (event_id) DO NOTHING) instead of adding a second one.
CREATE TABLE notifications (
    id         uuid PRIMARY KEY,
    user_id    text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 100),
    event_id   text NOT NULL,
    kind       text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz,
    CONSTRAINT notifications_one_per_event UNIQUE (event_id)
);

-- A user's notifications newest first (GET …/notifications, keyset (created_at, id) descending) and, read backwards,
-- oldest first after a given one (the stream's Last-Event-ID replay).
CREATE INDEX notifications_by_user ON notifications (user_id, created_at DESC, id DESC);

-- Rebuilding an unread count counts only the unread rows; partial, so it stays as small as what is unread.
CREATE INDEX notifications_unread_by_user ON notifications (user_id) WHERE read_at IS NULL;
