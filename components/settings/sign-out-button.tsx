"use client";

import { signOut } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { toast } from "@/components/ui/toaster";

/** Signs out and goes to the sign-in page; a failure says so in a toast with Retry. */
export function SignOutButton({ variant = "secondary", className }: { variant?: "secondary" | "ghost"; className?: string }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);

  async function signOutNow() {
    setPending(true);
    try {
      // No server redirect: next-auth would build it from NEXTAUTH_URL, unset by default.
      await signOut({ redirect: false });
      router.replace("/sign-in");
      router.refresh();
    } catch {
      setPending(false);
      toast({ message: "Could not sign out. Check your connection.", tone: "error", action: { label: "Retry", onClick: () => void signOutNow() } });
    }
  }

  return (
    <Button type="button" variant={variant} className={className} disabled={pending} onClick={() => void signOutNow()}>
      {pending ? "Signing out…" : "Sign out"}
    </Button>
  );
}
