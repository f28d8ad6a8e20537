-- PendingSagaRecovery walks pending orders oldest first; partial, so it stays as small as the orders in flight.
CREATE INDEX orders_pending_oldest_first ON orders (created_at, id) WHERE status = 'pending';
