import type { Metadata } from 'next';
import { publicKeySchema } from '@/lib/widget';
import { ChatWidget } from './chat-widget';
import { OfflineShell } from './offline-shell';

export const metadata: Metadata = { title: 'Chat' };

/** The widget iframe (/widget?key=pk_…), also usable as a hosted chat page. */
export default async function WidgetPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { key } = await searchParams;
  const parsed = publicKeySchema.safeParse(key);
  if (!parsed.success) {
    return (
      <main className="widget">
        <p role="alert">This chat widget is misconfigured: its key is missing or malformed.</p>
      </main>
    );
  }
  return (
    <>
      <ChatWidget widgetKey={parsed.data} />
      <OfflineShell />
    </>
  );
}
