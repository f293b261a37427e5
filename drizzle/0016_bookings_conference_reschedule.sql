ALTER TABLE "bookings" ADD COLUMN "conference" text;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "conference_status" text;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "conference_link" text;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "times_owed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_conference_check" CHECK ("bookings"."conference" is null or "bookings"."conference" = 'meet');