CREATE TABLE "channel_sync_requests" (
	"resource_key" text PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"calendar_id" uuid,
	"kind" text NOT NULL,
	"notified_at" timestamp with time zone NOT NULL,
	"seq" bigserial NOT NULL
);
--> statement-breakpoint
ALTER TABLE "channel_sync_requests" ADD CONSTRAINT "channel_sync_requests_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_sync_requests" ADD CONSTRAINT "channel_sync_requests_calendar_id_calendars_id_fk" FOREIGN KEY ("calendar_id") REFERENCES "public"."calendars"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "channel_sync_requests_notified_idx" ON "channel_sync_requests" USING btree ("notified_at");