// A tiny client-side router: the path is the state, history.pushState moves
// it, and components re-render through useSyncExternalStore.
import { useSyncExternalStore } from 'react';

const event = 'vigil:navigate';

function subscribe(cb: () => void) {
  window.addEventListener('popstate', cb);
  window.addEventListener(event, cb);
  return () => {
    window.removeEventListener('popstate', cb);
    window.removeEventListener(event, cb);
  };
}

/** The current path, without the query string. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** Goes to path (which may carry a query string). */
export function navigate(path: string, replace = false) {
  if (path === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(event));
}
