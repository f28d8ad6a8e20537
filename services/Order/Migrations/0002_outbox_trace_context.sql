-- The W3C traceparent of the change that wrote the event: the relay publishes in that trace, so a consumer's handling
-- of the event joins the trace of the request (or saga step) that caused it.
ALTER TABLE outbox ADD COLUMN traceparent text;
