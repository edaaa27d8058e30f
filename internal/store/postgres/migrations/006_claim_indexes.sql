-- Claims find each ordered webhook's head by seeking from webhook to webhook
-- over ordered pending deliveries, and test for a live lease among a webhook's
-- ordered deliveries only, so that neither scans an ordered backlog
-- (store/postgres DeliveryClaim). Both indexes hold ordered rows only:
-- publishing unordered deliveries does not maintain them.
CREATE INDEX deliveries_ordered_pending ON deliveries (webhook_id, seq) WHERE status = 'pending' AND ordered;
CREATE INDEX deliveries_ordered_leased ON deliveries (webhook_id) WHERE status = 'pending' AND ordered AND lease_token IS NOT NULL;
