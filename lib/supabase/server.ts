/**
 * Server-side Supabase clients.
 *
 * WARNING: the service-role client bypasses Row Level Security. Import this module only from server
 * code (route handlers, scripts); never from a client component.
 */
import type { WebSocketLikeConstructor } from '@supabase/realtime-js';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { Config } from '@/lib/config';

/** A new service-role client; throws when Supabase (URL + service-role key) is not configured. */
export function createServiceRoleClient(supabase: Config['supabase']): SupabaseClient {
  if (!supabase?.serviceRoleKey) {
    throw new Error(
      '[omniops] [supabase] SUPABASE_SERVICE_ROLE_KEY and NEXT_PUBLIC_SUPABASE_URL are required for the service-role client',
    );
  }
  return createClient(supabase.url, supabase.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // supabase-js builds its Realtime client eagerly and Node 20 has no global WebSocket; `ws` is
    // the implementation Supabase documents for Node. Its typings differ from the DOM's only in
    // event object types, hence the cast.
    realtime: { transport: WebSocket as unknown as WebSocketLikeConstructor },
  });
}
