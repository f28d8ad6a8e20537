-- btree_gist lets one GiST index combine equality on room_id with overlap of the stay.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE reservations (
    id          uuid PRIMARY KEY,
    room_id     uuid NOT NULL REFERENCES rooms (id),
    customer_id text NOT NULL,
    order_id    uuid NOT NULL,
    -- The nights from check-in (included) to check-out (excluded): [3 May, 5 May) and [5 May, 7 May) do not overlap.
    stay        daterange NOT NULL CHECK (NOT isempty(stay) AND NOT lower_inf(stay) AND NOT upper_inf(stay)),
    status      text NOT NULL CHECK (status IN ('held', 'confirmed', 'released', 'expired')),
    -- When a hold lapses unless it is confirmed; confirmation clears it.
    expires_at  timestamptz CHECK (status <> 'held' OR expires_at IS NOT NULL),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- One reservation per order, so that a retried hold finds the first one instead of competing with it.
    CONSTRAINT reservations_one_per_order UNIQUE (order_id),
    -- The guarantee itself: no two active reservations of a room overlap, however many replicas or callers race.
    -- Its index also serves the availability query and the lapsed-hold clean-up before each new hold.
    CONSTRAINT reservations_no_overlap EXCLUDE USING gist (room_id WITH =, stay WITH &&)
        WHERE (status IN ('held', 'confirmed'))
);

-- The expiry sweeper reads live holds in deadline order; partial, so it stays as small as the number of open holds.
CREATE INDEX reservations_held_by_expiry ON reservations (expires_at) WHERE status = 'held';
