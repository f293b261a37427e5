DROP INDEX "blocked_times_owner_start_idx";--> statement-breakpoint
CREATE INDEX "blocked_times_owner_start_cal_idx" ON "blocked_times" USING btree ("owner_id","start_at","end_at","calendar_id");