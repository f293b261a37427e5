CREATE TABLE "channel_change_sightings" (
	"calendar_id" uuid PRIMARY KEY NOT NULL,
	"changes_synced_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "channel_change_sightings" ADD CONSTRAINT "channel_change_sightings_calendar_id_calendars_id_fk" FOREIGN KEY ("calendar_id") REFERENCES "public"."calendars"("id") ON DELETE cascade ON UPDATE no action;