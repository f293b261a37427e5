CREATE TABLE "availability_preferences" (
	"owner_id" uuid PRIMARY KEY NOT NULL,
	"tentative_blocks" boolean DEFAULT false NOT NULL,
	"calendar_ids" text[],
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "availability_series" (
	"calendar_row_id" uuid NOT NULL,
	"series_id" text NOT NULL,
	"owner_id" uuid NOT NULL,
	"expanded_until" timestamp with time zone NOT NULL,
	CONSTRAINT "availability_series_calendar_row_id_series_id_pk" PRIMARY KEY("calendar_row_id","series_id")
);
--> statement-breakpoint
CREATE TABLE "availability_sources" (
	"calendar_row_id" uuid NOT NULL,
	"google_event_id" text NOT NULL,
	"owner_id" uuid NOT NULL,
	"series_id" text NOT NULL,
	"status" text NOT NULL,
	"transparency" text NOT NULL,
	"event_type" text NOT NULL,
	"self_response" text,
	"start" jsonb,
	"end" jsonb,
	"end_time_unspecified" boolean DEFAULT false NOT NULL,
	"recurrence" text[],
	"original_start" jsonb,
	"calendar_time_zone" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "availability_sources_calendar_row_id_google_event_id_pk" PRIMARY KEY("calendar_row_id","google_event_id")
);
--> statement-breakpoint
CREATE TABLE "blocked_times" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"calendar_row_id" uuid NOT NULL,
	"calendar_id" text NOT NULL,
	"series_id" text NOT NULL,
	"source_event_id" text NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "frozen_blocked_times" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"external_owner_id" text NOT NULL,
	"former_owner_id" uuid NOT NULL,
	"calendar_id" text NOT NULL,
	"source_event_id" text NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL,
	"frozen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "availability_preferences" ADD CONSTRAINT "availability_preferences_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "availability_series" ADD CONSTRAINT "availability_series_calendar_row_id_calendars_id_fk" FOREIGN KEY ("calendar_row_id") REFERENCES "public"."calendars"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "availability_series" ADD CONSTRAINT "availability_series_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "availability_sources" ADD CONSTRAINT "availability_sources_calendar_row_id_calendars_id_fk" FOREIGN KEY ("calendar_row_id") REFERENCES "public"."calendars"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "availability_sources" ADD CONSTRAINT "availability_sources_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "blocked_times" ADD CONSTRAINT "blocked_times_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "blocked_times" ADD CONSTRAINT "blocked_times_calendar_row_id_calendars_id_fk" FOREIGN KEY ("calendar_row_id") REFERENCES "public"."calendars"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "availability_series_until_idx" ON "availability_series" USING btree ("expanded_until");--> statement-breakpoint
CREATE INDEX "availability_sources_series_idx" ON "availability_sources" USING btree ("calendar_row_id","series_id");--> statement-breakpoint
CREATE INDEX "availability_sources_owner_idx" ON "availability_sources" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "blocked_times_owner_start_idx" ON "blocked_times" USING btree ("owner_id","start_at","end_at");--> statement-breakpoint
CREATE INDEX "blocked_times_series_idx" ON "blocked_times" USING btree ("calendar_row_id","series_id");--> statement-breakpoint
CREATE INDEX "blocked_times_end_idx" ON "blocked_times" USING btree ("end_at");--> statement-breakpoint
CREATE INDEX "frozen_blocked_times_owner_start_idx" ON "frozen_blocked_times" USING btree ("external_owner_id","start_at");--> statement-breakpoint
CREATE INDEX "frozen_blocked_times_former_owner_idx" ON "frozen_blocked_times" USING btree ("former_owner_id");--> statement-breakpoint
CREATE INDEX "frozen_blocked_times_end_idx" ON "frozen_blocked_times" USING btree ("end_at");