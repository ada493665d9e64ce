import type { Metadata } from 'next';
import { headers } from 'next/headers';
import Script from 'next/script';
import { getConfig } from '@/lib/config';
import { DEMO_CUSTOMER_ID, getCustomer } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import { embedSnippet, publicKeySchema } from '@/lib/widget';
import { requestOrigin } from '@/lib/http';

export const metadata: Metadata = { title: 'Demo store' };
export const dynamic = 'force-dynamic';

/**
 * A host page that embeds the widget exactly as a customer's site does. /demo uses the demo
 * customer seeded by `npm start`; /demo?key=pk_… embeds any customer's widget.
 */
export default async function DemoPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const requested = publicKeySchema.safeParse((await searchParams).key);
  const key = requested.success
    ? requested.data
    : (await getCustomer(await resolveDb(getConfig()), DEMO_CUSTOMER_ID))?.publicKey;
  const h = await headers();
  const origin = requestOrigin(h, 'http://localhost');
  return (
    <main>
      <h1>Demo Store</h1>
      <p>
        This page stands in for a customer&apos;s website. It includes the widget with the same snippet a customer
        pastes into their site:
      </p>
      <pre>
        <code>{embedSnippet(origin, key ?? 'pk_…')}</code>
      </pre>
      {key ? (
        <Script src="/embed.js" data-customer={key} strategy="afterInteractive" />
      ) : (
        <p role="alert">No demo customer here: open /demo?key=pk_… with a customer&apos;s widget key.</p>
      )}
    </main>
  );
}
