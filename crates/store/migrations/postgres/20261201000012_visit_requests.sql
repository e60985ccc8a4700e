-- A request's household, found through the visit whose finding it became (the request
-- page links to it; its owner and handler see the household while it is open).
CREATE INDEX visits_request ON visits (request_id) WHERE request_id IS NOT NULL;
