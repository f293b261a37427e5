CREATE TABLE "delivery_positions" (
	"owner_id" uuid NOT NULL,
	"calendar_id" text NOT NULL,
	"position" bigint NOT NULL,
	CONSTRAINT "delivery_positions_owner_id_calendar_id_pk" PRIMARY KEY("owner_id","calendar_id")
);
--> statement-breakpoint
DROP INDEX "deliveries_stream_pending_idx";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "position" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "delivery_positions" ADD CONSTRAINT "delivery_positions_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deliveries_job_idx" ON "deliveries" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "deliveries_stream_pending_idx" ON "deliveries" USING btree ("stream_key","position","created_at","id") WHERE status = 'pending';