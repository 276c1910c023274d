"use client";

import { signIn } from "next-auth/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import type { Problem } from "@/components/api-client";

type Mode = "sign-in" | "sign-up";

/**
 * Sign-up answers alike for taken and free emails, so a taken one shows up only here, as a
 * sign-in that fails — said without telling whether the account exists.
 */
function signInFailure(mode: Mode, status: number | undefined): string {
  if (status === 429) return "Too many sign-in attempts. Wait a few minutes, then try again.";
  return mode === "sign-up"
    ? "Could not sign you in with these details. If this email already has an account, sign in with its password."
    : "Wrong email or password.";
}

export function AuthForm({ mode }: { mode: Mode }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    setPending(true);
    setError(null);
    setFieldErrors({});
    try {
      if (mode === "sign-up") {
        const name = String(form.get("name") ?? "").trim();
        const response = await fetch("/api/auth/sign-up", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, password, ...(name ? { name } : {}) }),
        });
        if (!response.ok) {
          const problem = (await response.json().catch(() => ({}))) as Problem;
          setFieldErrors(Object.fromEntries((problem.errors ?? []).map((e) => [e.path, e.message])));
          setError(problem.detail ?? "Sign-up failed.");
          return;
        }
      }
      const result = await signIn("credentials", { email, password, redirect: false });
      if (!result || result.error) {
        setError(signInFailure(mode, result?.status));
        return;
      }
      router.replace("/");
      router.refresh();
    } catch {
      setError("Could not reach the server. Check your connection and try again.");
    } finally {
      setPending(false);
    }
  }

  const isSignUp = mode === "sign-up";
  return (
    // method="post": should the form ever submit before hydration, credentials stay out of the URL.
    <form method="post" onSubmit={onSubmit} className="space-y-4">
      {isSignUp ? <Field label="Name" name="name" autoComplete="name" maxLength={100} error={fieldErrors.name} /> : null}
      <Field label="Email" name="email" type="email" autoComplete="email" required error={fieldErrors.email} />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete={isSignUp ? "new-password" : "current-password"}
        minLength={isSignUp ? 8 : undefined}
        required
        error={fieldErrors.password}
      />
      {error ? (
        <p role="alert" className="rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">
          {error}
        </p>
      ) : null}
      <Button type="submit" disabled={pending} className="w-full">
        {pending ? "Please wait…" : isSignUp ? "Create account" : "Sign in"}
      </Button>
      <p className="text-center text-sm text-zinc-600 dark:text-zinc-400">
        {isSignUp ? "Already have an account? " : "New to BOT GPT? "}
        <Link className="font-medium text-blue-600 underline-offset-2 hover:underline dark:text-blue-400" href={isSignUp ? "/sign-in" : "/sign-up"}>
          {isSignUp ? "Sign in" : "Create an account"}
        </Link>
      </p>
    </form>
  );
}
