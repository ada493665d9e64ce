'use client';

import { useEffect } from 'react';

/**
 * Registers the widget's service worker (public/widget-sw.js), which keeps the widget's page and
 * assets so it reloads without a network, and hands it the assets this page already loaded
 * (they were fetched before the worker existed).
 */
export function OfflineShell() {
  useEffect(() => {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker
      .register('/widget-sw.js', { scope: '/widget' })
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => {
        const urls = performance
          .getEntriesByType('resource')
          .map((entry) => entry.name)
          .filter((url) => url.startsWith(`${location.origin}/_next/static/`));
        registration.active?.postMessage({ type: 'cache', urls: [location.href, ...urls] });
      })
      .catch(() => {
        // No service worker (private mode, blocked third-party context): the widget works online.
      });
  }, []);
  return null;
}
