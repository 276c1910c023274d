CREATE TABLE "usage_counters" (
	"subject" text NOT NULL,
	"day" date NOT NULL,
	"user_id" uuid NOT NULL,
	"tokens" integer DEFAULT 0 NOT NULL,
	"cost_usd" numeric(14, 8) DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_counters_subject_day_pk" PRIMARY KEY("subject","day")
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"api_key_id" uuid,
	"conversation_id" uuid,
	"message_id" uuid,
	"document_id" uuid,
	"kind" text NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"cached_tokens" integer DEFAULT 0 NOT NULL,
	"cost_usd" numeric(14, 8) DEFAULT 0 NOT NULL,
	"estimated" boolean DEFAULT false NOT NULL,
	"cached" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_events_kind_check" CHECK ("usage_events"."kind" in ('chat', 'summary', 'embedding'))
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "budget_tokens_per_day" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "budget_usd_per_month" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "temperature" real;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cached_tokens" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "usage_estimated" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cached" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "token_count" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "token_family" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "budget_tokens_per_day" integer;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "budget_usd_per_month" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "usage_counters" ADD CONSTRAINT "usage_counters_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_document_id_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."documents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "usage_counters_user_idx" ON "usage_counters" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "usage_events_user_time_idx" ON "usage_events" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "usage_events_conversation_idx" ON "usage_events" USING btree ("conversation_id");--> statement-breakpoint
CREATE INDEX "usage_events_document_idx" ON "usage_events" USING btree ("document_id") WHERE "usage_events"."document_id" is not null;--> statement-breakpoint
-- Earlier replies become ledger rows, so /usage and budgets see the history they already cost.
INSERT INTO "usage_events" ("user_id", "conversation_id", "message_id", "kind", "provider", "model", "prompt_tokens", "completion_tokens", "cost_usd", "created_at")
SELECT c."user_id", m."conversation_id", m."id", 'chat', coalesce(m."provider", 'unknown'), m."model", coalesce(m."prompt_tokens", 0), coalesce(m."completion_tokens", 0), coalesce(m."cost_usd", 0), m."created_at"
FROM "messages" m JOIN "conversations" c ON c."id" = m."conversation_id"
WHERE m."role" = 'assistant' AND m."model" IS NOT NULL;
