ALTER TABLE "calendar_lists" ADD COLUMN "last_full_synced_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "calendars" ADD COLUMN "resume_page_token" text;--> statement-breakpoint
ALTER TABLE "calendars" ADD COLUMN "resume_generation" bigint;--> statement-breakpoint
ALTER TABLE "calendars" ADD COLUMN "resume_started_at" timestamp with time zone;