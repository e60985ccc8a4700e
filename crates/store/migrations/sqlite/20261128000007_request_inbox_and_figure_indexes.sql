-- Indexes for half a million requests (measured with `doorstep bench requests`):
-- * the neighbourhood board lists open requests by deadline: (neighbourhood, state,
--   deadline) lets each open state be one range, so closed requests are never read;
-- * figures read a period's requests of the subdistrict or of one neighbourhood: these
--   covering indexes hold every column the figures use, so the table rows (with their
--   descriptions and timelines) are never read.
DROP INDEX requests_neighbourhood;
CREATE INDEX requests_nb_open ON requests (neighbourhood_id, state, deadline_at);
DROP INDEX requests_sd_created;
CREATE INDEX requests_sd_figures ON requests (subdistrict_id, created_at, neighbourhood_id, kind,
    service_item_id, state, merged_into, on_spot, rating, resolved_at, deadline_at, resolve_secs);
DROP INDEX requests_nb_created;
CREATE INDEX requests_nb_figures ON requests (neighbourhood_id, created_at, subdistrict_id, kind,
    service_item_id, state, merged_into, on_spot, rating, resolved_at, deadline_at, resolve_secs);
