-- The directory's filters as one array per organisation (issue 12), so that one GIN index
-- scan answers region, country, kind, partner type and every tag filter together, and
-- PostgreSQL combines it with the text indexes in one bitmap (BitmapAnd) before it reads a
-- row. Before this, a search read every row that matched its words and region (1,700 wide
-- rows for a city at 100,000 organisations) and only then tested the focus area.
-- Tokens are `<filter>:<code>`: region:africa, country:KE, kind:member,
-- partner_type:donor, focus_area:…, pillar:…, language:…. Written by
-- directory::search::document::sync in the transaction of every write that changes one;
-- visibility is never in here (it is tested on the row's own columns).
ALTER TABLE organisations ADD COLUMN search_filters TEXT[] NOT NULL DEFAULT '{}';

UPDATE organisations o SET search_filters =
    ARRAY['region:' || o.region, 'country:' || o.country, 'kind:' || o.kind]
    || CASE WHEN o.partner_type IS NULL THEN '{}'::TEXT[] ELSE ARRAY['partner_type:' || o.partner_type] END
    || COALESCE((SELECT array_agg(t.kind || ':' || t.code ORDER BY t.kind, t.code)
                 FROM organisation_tags t WHERE t.organisation_id = o.id), '{}'::TEXT[]);

CREATE INDEX organisations_search_filters ON organisations USING gin (search_filters);
