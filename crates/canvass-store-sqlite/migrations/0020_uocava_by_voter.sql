-- One voter's UOCAVA requests and deliveries, read by registration number for the public "Did my
-- ballot count?" page (issue 9: the voter sees their ballot sent and downloaded). Each lookup
-- reads both, for a number no voter has when nothing matched, so a lookup must cost an index
-- probe whoever it is for, not a scan of every request and delivery of the state.
CREATE INDEX uocava_requests_by_voter ON uocava_requests (registration_number, id);
CREATE INDEX uocava_deliveries_by_voter ON uocava_deliveries (registration_number, id);
