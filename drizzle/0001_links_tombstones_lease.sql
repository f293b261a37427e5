CREATE TABLE "owner_tombstones" (
	"former_owner_id" uuid PRIMARY KEY NOT NULL,
	"external_owner_id" text NOT NULL,
	"linked_at" timestamp with time zone,
	"unlinked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "owners" ADD COLUMN "refresh_lease_id" text;--> statement-breakpoint
ALTER TABLE "owners" ADD COLUMN "refresh_lease_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "owner_tombstones_external_idx" ON "owner_tombstones" USING btree ("external_owner_id","unlinked_at");