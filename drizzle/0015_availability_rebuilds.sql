CREATE TABLE "availability_rebuilds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"reason" text NOT NULL,
	"rules_version" integer NOT NULL,
	"owner_id" uuid,
	"total" integer NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"cursor" uuid,
	"last_error" text,
	"started_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "availability_sources" ADD COLUMN "visibility" text;--> statement-breakpoint
CREATE UNIQUE INDEX "availability_rebuilds_rules_version_idx" ON "availability_rebuilds" USING btree ("rules_version") WHERE "availability_rebuilds"."reason" = 'rules';--> statement-breakpoint
CREATE INDEX "availability_rebuilds_started_idx" ON "availability_rebuilds" USING btree ("started_at");