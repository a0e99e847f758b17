-- The PA network's listings: the document holds everything; the columns
-- are what the moderation queue and the expiry sweep filter and sort by.
-- Times are Unix nanoseconds; expires_at is 0 until a listing is first
-- approved.
CREATE TABLE listings (
	id         TEXT PRIMARY KEY,
	status     TEXT NOT NULL,
	owner      TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL DEFAULT 0,
	doc        TEXT NOT NULL
);
CREATE INDEX listings_queue ON listings (status, created_at, id);
CREATE INDEX listings_owner ON listings (owner, created_at, id);
CREATE INDEX listings_due ON listings (expires_at) WHERE status IN ('approved', 'paused');

-- The search index, kept in the same transaction as the listing and only
-- for approved listings: narrow rows, so that a search never reads the
-- documents of listings it does not return.
--
-- listing_live: one row per approved listing.
CREATE TABLE listing_live (
	listing_id   TEXT PRIMARY KEY,
	confirmed_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX listing_live_order ON listing_live (confirmed_at DESC, listing_id);

-- listing_areas: the areas an approved listing covers, a district ("EX4",
-- with its postcode area "EX") or a town ("town:newton abbot", no postcode
-- area).
CREATE TABLE listing_areas (
	listing_id   TEXT NOT NULL,
	area         TEXT NOT NULL,
	parea        TEXT NOT NULL DEFAULT '',
	confirmed_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	PRIMARY KEY (listing_id, area)
);
CREATE INDEX listing_areas_area ON listing_areas (area, listing_id, confirmed_at, expires_at);
CREATE INDEX listing_areas_parea ON listing_areas (parea, listing_id, area, confirmed_at, expires_at);

-- listing_services: the services an approved listing offers, by id.
CREATE TABLE listing_services (
	listing_id TEXT NOT NULL,
	service    TEXT NOT NULL,
	PRIMARY KEY (listing_id, service)
);
CREATE INDEX listing_services_service ON listing_services (service, listing_id);

-- listing_words: the stems of the words an approved listing says about
-- itself (about, experience, training), for free-text search.
CREATE TABLE listing_words (
	listing_id TEXT NOT NULL,
	word       TEXT NOT NULL,
	PRIMARY KEY (listing_id, word)
);
CREATE INDEX listing_words_word ON listing_words (word, listing_id);

-- Introductions: an employer's request to be put in touch with a listing's
-- PA. At most one request of an employer waits per listing.
CREATE TABLE introductions (
	id         TEXT PRIMARY KEY,
	listing_id TEXT NOT NULL,
	employer   TEXT NOT NULL,
	status     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	doc        TEXT NOT NULL
);
CREATE INDEX introductions_employer ON introductions (employer, created_at);
CREATE UNIQUE INDEX introductions_waiting ON introductions (listing_id, employer) WHERE status = 'requested';
CREATE INDEX introductions_due ON introductions (expires_at) WHERE status = 'requested';

-- One row per employer who has asked for an introduction, locked while
-- their next request is checked against the daily limit.
CREATE TABLE introduction_quota (
	employer TEXT PRIMARY KEY
);
