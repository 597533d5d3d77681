// The identity watermark (EXP-3) over every live and playback tile: the
// viewer's name, unit and the current time, semi-transparent, repeated
// diagonally, never catching the pointer, on top of the video. It is drawn
// by hand rather than through React so that a MutationObserver can put it
// back at once if someone removes it or edits its style in the developer
// tools.
import { useEffect, useRef } from 'react';
import { useI18n } from '../i18n';
import { useSession } from '../session';

const layerStyle =
  'position:absolute;inset:0;z-index:2147483000;pointer-events:none;overflow:hidden;user-select:none;' +
  'display:block;visibility:visible;opacity:1;';
const gridStyle =
  'position:absolute;left:-50%;top:-50%;width:200%;height:200%;transform:rotate(-30deg);display:flex;' +
  'flex-wrap:wrap;align-content:flex-start;gap:56px 72px;padding:24px;';
const cellStyle =
  'color:rgba(255,255,255,0.28);text-shadow:0 0 2px rgba(0,0,0,0.35);font-size:14px;line-height:1.3;white-space:nowrap;';

const cells = 60;

/** layerStyle as the browser normalises it, to notice edits. */
let normalStyle = '';
function normalised(): string {
  if (!normalStyle) {
    const d = document.createElement('div');
    d.style.cssText = layerStyle;
    normalStyle = d.style.cssText;
  }
  return normalStyle;
}

function build(text: string): HTMLDivElement {
  const layer = document.createElement('div');
  layer.setAttribute('data-testid', 'watermark');
  layer.setAttribute('aria-hidden', 'true');
  layer.style.cssText = layerStyle;
  const grid = document.createElement('div');
  grid.style.cssText = gridStyle;
  for (let i = 0; i < cells; i++) {
    const cell = document.createElement('span');
    cell.style.cssText = cellStyle;
    cell.textContent = text;
    grid.appendChild(cell);
  }
  layer.appendChild(grid);
  return layer;
}

/**
 * Watermark keeps an identity layer in its parent element (which must be
 * position: relative): re-created when removed, restyled when its style is
 * changed, moved back to the end when something is placed after it, and
 * its clock refreshed every second.
 */
export default function Watermark() {
  const { session } = useSession();
  const { time } = useI18n();
  const anchor = useRef<HTMLSpanElement>(null);
  const u = session.user;
  const who = u.unit_name ? `${u.name} · ${u.unit_name}` : u.name;

  useEffect(() => {
    const host = anchor.current?.parentElement;
    if (!host) return;
    const text = () => `${who} · ${time(new Date().toISOString())}`;
    let layer = build(text());
    host.appendChild(layer);
    const restore = () => {
      if (!layer.isConnected || layer.parentElement !== host || layer.firstElementChild?.childElementCount !== cells) {
        layer.remove();
        layer = build(text());
        host.appendChild(layer);
      } else if (host.lastElementChild !== layer) {
        host.appendChild(layer); // keep it over anything added later
      }
      if (layer.style.cssText !== normalised()) layer.style.cssText = layerStyle;
    };
    const watch = new MutationObserver(restore);
    watch.observe(host, { childList: true, subtree: true, attributes: true, attributeFilter: ['style', 'class', 'hidden'] });
    const tick = window.setInterval(() => {
      const s = text();
      watch.disconnect();
      restore();
      for (const c of layer.querySelectorAll('span')) c.textContent = s;
      watch.observe(host, { childList: true, subtree: true, attributes: true, attributeFilter: ['style', 'class', 'hidden'] });
    }, 1000);
    return () => {
      window.clearInterval(tick);
      watch.disconnect();
      layer.remove();
    };
  }, [who, time]);

  return <span ref={anchor} style={{ display: 'none' }} />;
}
