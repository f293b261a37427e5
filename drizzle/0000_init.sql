CREATE TABLE "oauth_states" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"state_hash" text NOT NULL,
	"external_owner_id" text NOT NULL,
	"return_to" text,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "oauth_states_state_hash_unique" UNIQUE("state_hash")
);
--> statement-breakpoint
CREATE TABLE "owners" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"external_owner_id" text NOT NULL,
	"status" text NOT NULL,
	"google_email" text,
	"refresh_token_enc" text,
	"access_token_enc" text,
	"access_token_expires_at" timestamp with time zone,
	"scopes" text,
	"linked_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"unlinked_at" timestamp with time zone,
	"last_sync_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "owners_external_owner_id_unique" UNIQUE("external_owner_id")
);
--> statement-breakpoint
CREATE TABLE "calendar_events" (
	"calendar_id" uuid NOT NULL,
	"owner_id" uuid NOT NULL,
	"google_event_id" text NOT NULL,
	"status" text NOT NULL,
	"summary" text,
	"start_at" timestamp with time zone,
	"end_at" timestamp with time zone,
	"start_date" date,
	"end_date" date,
	"time_zone" text,
	"all_day" boolean DEFAULT false NOT NULL,
	"transparency" text DEFAULT 'opaque' NOT NULL,
	"event_type" text DEFAULT 'default' NOT NULL,
	"recurrence" text[],
	"recurring_event_id" text,
	"original_start_time" text,
	"organizer_email" text,
	"attendees" jsonb,
	"updated" timestamp with time zone,
	"etag" text,
	"raw" jsonb NOT NULL,
	"sync_generation" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "calendar_events_calendar_id_google_event_id_pk" PRIMARY KEY("calendar_id","google_event_id")
);
--> statement-breakpoint
CREATE TABLE "calendar_lists" (
	"owner_id" uuid PRIMARY KEY NOT NULL,
	"sync_token" text,
	"last_synced_at" timestamp with time zone,
	"sync_error" text
);
--> statement-breakpoint
CREATE TABLE "calendars" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"google_calendar_id" text NOT NULL,
	"summary" text,
	"time_zone" text,
	"primary" boolean DEFAULT false NOT NULL,
	"access_role" text,
	"selected" boolean DEFAULT false NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"poll_only" boolean DEFAULT false NOT NULL,
	"sync_token" text,
	"last_synced_at" timestamp with time zone,
	"last_full_sync_at" timestamp with time zone,
	"sync_error" text,
	"sync_error_at" timestamp with time zone,
	"raw" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "calendar_events" ADD CONSTRAINT "calendar_events_calendar_id_calendars_id_fk" FOREIGN KEY ("calendar_id") REFERENCES "public"."calendars"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "calendar_lists" ADD CONSTRAINT "calendar_lists_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "calendars" ADD CONSTRAINT "calendars_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "oauth_states_expires_idx" ON "oauth_states" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "calendar_events_owner_time_idx" ON "calendar_events" USING btree ("owner_id","start_at");--> statement-breakpoint
CREATE INDEX "calendar_events_recurring_idx" ON "calendar_events" USING btree ("calendar_id","recurring_event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "calendars_owner_google_idx" ON "calendars" USING btree ("owner_id","google_calendar_id");