-- Rooms: what reservations point at. `version` is the optimistic-concurrency token served as the ETag.
CREATE TABLE rooms (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    city            text NOT NULL,
    capacity        integer NOT NULL CHECK (capacity > 0),
    price_per_night numeric(10, 2) NOT NULL CHECK (price_per_night > 0),
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- GET /rooms pages in keyset order (price_per_night, id): one index for the whole catalogue,
-- one that puts the city first for GET /rooms?city=…, so every page is a range scan that stops after `limit` rows.
CREATE INDEX rooms_by_price ON rooms (price_per_night, id);
CREATE INDEX rooms_by_city_and_price ON rooms (city, price_per_night, id);
