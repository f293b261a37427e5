ALTER TABLE "channel_sync_requests" ADD COLUMN "held_by" text;--> statement-breakpoint
ALTER TABLE "channel_sync_requests" ADD COLUMN "held_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "channel_sync_requests" ADD COLUMN "not_before" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "calendar_sync_states" ADD COLUMN "finished_at" timestamp with time zone;