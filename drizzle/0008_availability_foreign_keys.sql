ALTER TABLE "availability_series" DROP CONSTRAINT "availability_series_owner_id_owners_id_fk";
--> statement-breakpoint
ALTER TABLE "availability_sources" DROP CONSTRAINT "availability_sources_owner_id_owners_id_fk";
--> statement-breakpoint
ALTER TABLE "blocked_times" DROP CONSTRAINT "blocked_times_owner_id_owners_id_fk";
--> statement-breakpoint
ALTER TABLE "blocked_times" DROP CONSTRAINT "blocked_times_calendar_row_id_calendars_id_fk";
