"use client";

import { signOut } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { toast } from "@/components/ui/toaster";

export function SignOutButton() {
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
    <Button type="button" variant="secondary" disabled={pending} onClick={() => void signOutNow()}>
      {pending ? "Signing out…" : "Sign out"}
    </Button>
  );
}
