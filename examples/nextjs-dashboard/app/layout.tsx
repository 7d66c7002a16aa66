import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import "@zip/example-admin-ui/styles.css";

export const metadata: Metadata = { title: "Deep Memory", description: "Train and switch on deep memory for your retrieval." };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

// System fonts only (@zip/example-admin-ui/styles.css): next/font/google would download at build time.
export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
