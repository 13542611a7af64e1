-- Hand-written: a webhook URL carries its bot token, so a notification stores the webhook's label
-- (origin and a fingerprint of the URL, alerts/src/store.ts webhookLabel) and the URL stays in
-- ALERTS_WEBHOOK_URLS. Notifications queued before are labelled the same way (the deliverer finds
-- the URL by the fingerprint), and stored delivery errors lose any URL they quoted.
UPDATE "alert_notifications"
   SET "recipient" = lower(substring("recipient" from '^([A-Za-z][A-Za-z0-9+.-]*://)'))
       || lower(regexp_replace(substring("recipient" from '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)'), '^.*@', ''))
       || ' #' || left(encode(sha256(convert_to("recipient", 'UTF8')), 'hex'), 12)
 WHERE "channel" = 'WEBHOOK' AND "recipient" ~ '^[A-Za-z][A-Za-z0-9+.-]*://' AND "recipient" !~ ' #[0-9a-f]{12}$';
UPDATE "alert_notifications" SET "last_error" = regexp_replace("last_error", '[A-Za-z][A-Za-z0-9+.-]*://[^[:space:]"'']+', '[url redacted]', 'g')
 WHERE "last_error" ~ '://';
UPDATE "alert_delivery_attempts" SET "error" = regexp_replace("error", '[A-Za-z][A-Za-z0-9+.-]*://[^[:space:]"'']+', '[url redacted]', 'g')
 WHERE "error" ~ '://';
