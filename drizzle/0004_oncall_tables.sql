CREATE TABLE "oncall_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"owner_id" uuid NOT NULL,
	"calendar_id" text NOT NULL,
	"slack_channel" text NOT NULL,
	"time_zone" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oncall_members" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"group_id" uuid NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"slack_user_id" text,
	"position" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oncall_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"group_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"swap_id" uuid,
	"shift_id" uuid NOT NULL,
	"dedupe_key" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"text" text,
	"slack_ts" text,
	"last_error" text,
	"posted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "oncall_messages_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "shifts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"group_id" uuid NOT NULL,
	"google_event_id" text NOT NULL,
	"assignee_email" text NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"declined_on" date,
	"declined_by" text,
	"swapped_with_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "swaps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"group_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"declined_shift_id" uuid NOT NULL,
	"swap_shift_id" uuid NOT NULL,
	"from_email" text NOT NULL,
	"to_email" text NOT NULL,
	"declined_event_id" text NOT NULL,
	"swap_event_id" text NOT NULL,
	"state" text NOT NULL,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "oncall_groups" ADD CONSTRAINT "oncall_groups_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oncall_members" ADD CONSTRAINT "oncall_members_group_id_oncall_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."oncall_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oncall_messages" ADD CONSTRAINT "oncall_messages_group_id_oncall_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."oncall_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oncall_messages" ADD CONSTRAINT "oncall_messages_swap_id_swaps_id_fk" FOREIGN KEY ("swap_id") REFERENCES "public"."swaps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oncall_messages" ADD CONSTRAINT "oncall_messages_shift_id_shifts_id_fk" FOREIGN KEY ("shift_id") REFERENCES "public"."shifts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shifts" ADD CONSTRAINT "shifts_group_id_oncall_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."oncall_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shifts" ADD CONSTRAINT "shifts_swapped_with_id_shifts_id_fk" FOREIGN KEY ("swapped_with_id") REFERENCES "public"."shifts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "swaps" ADD CONSTRAINT "swaps_group_id_oncall_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."oncall_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "swaps" ADD CONSTRAINT "swaps_declined_shift_id_shifts_id_fk" FOREIGN KEY ("declined_shift_id") REFERENCES "public"."shifts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "swaps" ADD CONSTRAINT "swaps_swap_shift_id_shifts_id_fk" FOREIGN KEY ("swap_shift_id") REFERENCES "public"."shifts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "oncall_groups_owner_calendar_idx" ON "oncall_groups" USING btree ("owner_id","calendar_id");--> statement-breakpoint
CREATE UNIQUE INDEX "oncall_members_group_email_idx" ON "oncall_members" USING btree ("group_id","email");--> statement-breakpoint
CREATE INDEX "oncall_messages_swap_idx" ON "oncall_messages" USING btree ("swap_id");--> statement-breakpoint
CREATE UNIQUE INDEX "shifts_group_event_idx" ON "shifts" USING btree ("group_id","google_event_id");--> statement-breakpoint
CREATE INDEX "shifts_group_start_idx" ON "shifts" USING btree ("group_id","start_at");--> statement-breakpoint
CREATE INDEX "shifts_event_idx" ON "shifts" USING btree ("google_event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "swaps_one_unfinished_per_group_idx" ON "swaps" USING btree ("group_id") WHERE state in ('pending', 'compensating');--> statement-breakpoint
CREATE INDEX "swaps_group_created_idx" ON "swaps" USING btree ("group_id","created_at");--> statement-breakpoint
CREATE INDEX "swaps_declined_shift_idx" ON "swaps" USING btree ("declined_shift_id");