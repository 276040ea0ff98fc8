-- Trace context (operations.md "Telemetry"): the W3C traceparent of the request
-- that submitted a message (trace and span ids only), so that its delivery,
-- later and maybe on another replica, joins the same trace.

ALTER TABLE messages ADD COLUMN traceparent TEXT;
