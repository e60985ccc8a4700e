-- Several app servers on one database (issue 9, item 11): the per-address and per-key
-- limits count attempts here, so every server sees them all; and each run of a
-- background job claims its slot (the job and the minute it is due), so that a job due
-- once a minute runs once in the whole deployment, whichever server claims it first.
CREATE TABLE rate_hits (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX rate_hits_key ON rate_hits (bucket, key, at);
CREATE INDEX rate_hits_at ON rate_hits (at);

CREATE TABLE job_slots (
    job TEXT NOT NULL,
    slot TEXT NOT NULL,
    holder TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (job, slot)
);
