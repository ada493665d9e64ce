'use client';

/** A failed page shows what happened and a way to try again, never a blank page. */
export default function DashboardError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section role="alert" className="stack">
      <h1>Something went wrong</h1>
      <p>
        This page could not be loaded{error.digest ? ` (reference ${error.digest})` : ''}. If the database is unreachable,
        the app switches to its fallback within seconds.
      </p>
      <p>
        <button type="button" onClick={reset}>
          Try again
        </button>
      </p>
    </section>
  );
}
