// The signed-in session, shared with every page.
import { createContext, useContext } from 'react';
import type { Session } from './types';

export interface SessionCtx {
  session: Session;
  /** Re-reads GET /session (after changes to one's own account). */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionCtx | null>(null);

export function useSession(): SessionCtx {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside a session');
  return v;
}

/** The permission names the session holds, from its permissions or grants. */
export function heldPermissions(s: Session): Set<string> {
  const out = new Set<string>();
  for (const p of s.permissions ?? []) {
    if (typeof p === 'string') out.add(p);
  }
  for (const g of s.grants ?? []) {
    for (const p of g.permissions ?? []) out.add(p);
  }
  return out;
}
