CREATE TABLE "oauth_tickets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ticket_hash" text NOT NULL,
	"external_owner_id" text NOT NULL,
	"return_to" text,
	"login_hint" text,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "oauth_tickets_ticket_hash_unique" UNIQUE("ticket_hash")
);
--> statement-breakpoint
ALTER TABLE "oauth_states" ADD COLUMN "verifier_enc" text;--> statement-breakpoint
CREATE INDEX "oauth_tickets_expires_idx" ON "oauth_tickets" USING btree ("expires_at");