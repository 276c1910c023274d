import type { Metadata } from "next";
import { AuthForm } from "@/components/auth/auth-form";

export const metadata: Metadata = { title: "Sign in" };

export default function SignInPage() {
  return (
    <>
      <h1 className="text-center text-lg font-medium">Sign in to your account</h1>
      <AuthForm mode="sign-in" />
    </>
  );
}
