-- What the public listing (Open311) may show (issue 9, item 2). A catalogue item is
-- published only when an admin marks it so (off for every existing item: NULL is off); a request's
-- description only when the resident allowed it. Tracking codes are looked up by their
-- first four characters and then compared in full in constant time, so the time an
-- answer takes tells nothing about how much of a guessed code was right.
ALTER TABLE service_items ADD COLUMN publishable BOOLEAN;
ALTER TABLE requests ADD COLUMN public_description BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX requests_tracking_selector ON requests (substr(tracking_code, 1, 4));
