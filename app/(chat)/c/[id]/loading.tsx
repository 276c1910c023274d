import { ConversationSkeleton } from "@/components/ui/skeleton";

export default function Loading() {
  return <ConversationSkeleton />;
}
