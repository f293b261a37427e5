-- Two live bookings (requested or confirmed) of one owner never overlap: enforced by Postgres, so
-- that of two concurrent requests for one slot exactly one commits (the other gets exclusion_violation,
-- 23P01). drizzle-kit cannot express exclusion constraints, hence this custom migration.
-- btree_gist provides the gist operator class for "owner_id WITH =".
CREATE EXTENSION IF NOT EXISTS btree_gist;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_no_overlap" EXCLUDE USING gist (
	"owner_id" WITH =,
	tstzrange("start_at", "end_at", '[)') WITH &&
) WHERE ("status" IN ('requested', 'confirmed'));
