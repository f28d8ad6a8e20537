CREATE TABLE orders (
    id                  uuid PRIMARY KEY,
    customer_id         text NOT NULL,
    room_id             uuid NOT NULL,
    stay_from           date NOT NULL,
    stay_to             date NOT NULL CHECK (stay_to > stay_from),
    amount              numeric(12, 2) NOT NULL CHECK (amount > 0),
    status              text NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    cancellation_reason text CHECK ((status = 'cancelled') = (cancellation_reason IS NOT NULL)),
    -- The client's Idempotency-Key and a hash of the request it came with: a retry finds the first order through the
    -- key, and the hash tells a retry (same body) from a reuse of the key for another request (422).
    idempotency_key     text NOT NULL,
    request_hash        text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- Decides every race between retries of one request: the first insert wins, the others find it (ON CONFLICT).
    CONSTRAINT orders_one_per_idempotency_key UNIQUE (idempotency_key)
);

-- GET /orders?customerId= walks a customer's orders newest first by keyset (created_at, id); the index is that order.
CREATE INDEX orders_by_customer_newest_first ON orders (customer_id, created_at DESC, id DESC);

-- Every status an order has had, with why: what GET /orders/{id} shows as the saga's progress.
CREATE TABLE order_status_history (
    order_id   uuid NOT NULL REFERENCES orders (id),
    position   integer NOT NULL,
    status     text NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    reason     text,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, position)
);

-- Integration events, written in the transaction of the change that caused them and published by OutboxRelay.
CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    -- Publication order: the order the rows were committed in is not knowable, the order they were numbered in is close.
    sequence        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    topic           text NOT NULL,
    cloudevent_type text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text
);

-- The relay reads only what is still to publish, in sequence; partial, so it stays as small as the backlog.
CREATE INDEX outbox_unpublished ON outbox (sequence) WHERE published_at IS NULL;
