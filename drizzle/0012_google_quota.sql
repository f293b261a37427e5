CREATE TABLE "google_quota_buckets" (
	"key" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"refilled_at" timestamp with time zone DEFAULT now() NOT NULL,
	"paused_until" timestamp with time zone,
	"paused_reason" text,
	"pause_streak" integer DEFAULT 0 NOT NULL
);
