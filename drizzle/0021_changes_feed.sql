CREATE TABLE "changes" (
	"xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"seq" bigserial NOT NULL,
	"type" text NOT NULL,
	"owner_id" uuid NOT NULL,
	"external_owner_id" text NOT NULL,
	"calendar_id" text,
	"google_event_id" text,
	"event" jsonb,
	"data" jsonb,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "changes_xid_seq_pk" PRIMARY KEY("xid","seq")
);
--> statement-breakpoint
CREATE TABLE "changes_pruned" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"xid" "xid8" NOT NULL,
	"seq" bigint NOT NULL,
	"pruned_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "changes" ADD CONSTRAINT "changes_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "changes_owner_idx" ON "changes" USING btree ("external_owner_id","xid","seq");--> statement-breakpoint
CREATE INDEX "changes_calendar_idx" ON "changes" USING btree ("calendar_id","xid","seq");--> statement-breakpoint
CREATE INDEX "changes_occurred_idx" ON "changes" USING btree ("occurred_at");