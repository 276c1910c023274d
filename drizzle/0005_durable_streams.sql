CREATE TABLE "stream_events" (
	"message_id" uuid NOT NULL,
	"first_id" integer NOT NULL,
	"last_id" integer NOT NULL,
	"chunks" jsonb NOT NULL,
	"done" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_events_message_id_first_id_pk" PRIMARY KEY("message_id","first_id")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "stop_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "stream_events" ADD CONSTRAINT "stream_events_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "stream_events_created_idx" ON "stream_events" USING btree ("created_at");