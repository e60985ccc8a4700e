-- How residents say each matter in their own words (one phrasing per line): searched
-- almost as much as the item's name, and edited by admins with the rest of the item.
ALTER TABLE service_items ADD COLUMN phrasings TEXT;
