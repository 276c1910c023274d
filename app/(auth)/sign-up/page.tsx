import type { Metadata } from "next";
import { AuthForm } from "@/components/auth/auth-form";

export const metadata: Metadata = { title: "Create account" };

export default function SignUpPage() {
  return (
    <>
      <h1 className="text-center text-lg font-medium">Create your account</h1>
      <AuthForm mode="sign-up" />
    </>
  );
}
