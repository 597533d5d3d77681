import { useCallback, useEffect, useMemo, useState } from 'react';
import { Button, Segmented, Select, Space, Tooltip, Typography } from 'antd';
import { EditOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import CameraTree, { useCameras } from '../live/CameraTree';
import LiveTile from '../live/LiveTile';
import { usePurpose } from '../live/purpose';
import type { Transport } from '../live/player';

const layouts = [1, 4, 9, 16] as const;
type Layout = (typeof layouts)[number];

interface Saved {
  layout: Layout;
  tiles: Array<string | null>;
  prefer: 'auto' | Transport;
}

// Layouts are saved per user in this browser (localStorage keyed by user id).
const storageKey = (user: string) => `vigil.wall.${user}`;

function load(user: string): Saved {
  try {
    const s = JSON.parse(localStorage.getItem(storageKey(user)) ?? '') as Saved;
    if (layouts.includes(s.layout) && Array.isArray(s.tiles)) return { layout: s.layout, tiles: s.tiles, prefer: s.prefer ?? 'auto' };
  } catch {
    // nothing saved yet
  }
  return { layout: 4, tiles: [], prefer: 'auto' };
}

/**
 * The video wall (视频墙, MED-2): the camera tree by unit and site, 1/4/9/16
 * tiles, a camera clicked or dragged onto a tile, each tile live over
 * WebRTC or fMP4 with the viewer's identity watermark (EXP-3), the purpose
 * stated before video starts (ACC-3).
 */
export default function Wall() {
  const { t, tk } = useI18n();
  const { session } = useSession();
  const user = session.user.id;
  const { cameras, sites, loading } = useCameras();
  const [saved, setSaved] = useState<Saved>(() => load(user));
  const [active, setActive] = useState(0);
  const purpose = usePurpose();

  useEffect(() => {
    localStorage.setItem(storageKey(user), JSON.stringify(saved));
  }, [saved, user]);

  const byId = useMemo(() => new Map(cameras.map((c) => [c.id, c])), [cameras]);
  const n = saved.layout;
  const cols = Math.sqrt(n);

  const put = useCallback((tile: number, id: string | null) => {
    setSaved((s) => {
      const tiles = [...s.tiles];
      while (tiles.length < 16) tiles.push(null);
      tiles[tile] = id;
      return { ...s, tiles };
    });
  }, []);

  // A click in the tree fills the active tile, then moves on to the next.
  const pick = (id: string) => {
    put(active, id);
    setActive((a) => (a + 1) % n);
  };

  const ensure = purpose.ensure;
  return (
    <div className="wall-page">
      <div className="wall-side">
        <CameraTree cameras={cameras} sites={sites} loading={loading} onPick={(c) => pick(c.id)} selected={saved.tiles.slice(0, n).filter((x): x is string => !!x)} />
      </div>
      <div className="wall-main">
        <div className="page-toolbar">
          <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.wall')}</Typography.Title>
          <span className="spacer" />
          <Tooltip title={purpose.standing ? t('purpose.standing') : t('purpose.change')}>
            <Button icon={<EditOutlined />} onClick={purpose.change} disabled={purpose.standing} data-testid="purpose-current">
              {purpose.purpose ? t('purpose.current', { purpose: purpose.purpose }) : t('purpose.none')}
            </Button>
          </Tooltip>
          <Space>
            <span>{t('wall.transport')}</span>
            <Select value={saved.prefer} onChange={(prefer) => setSaved((s) => ({ ...s, prefer }))} style={{ width: 140 }} data-testid="wall-transport"
              options={(['auto', 'webrtc', 'fmp4'] as const).map((v) => ({ value: v, label: tk(`wall.transport.${v}`, v) }))} />
          </Space>
          <Segmented<Layout> value={n} onChange={(layout) => { setSaved((s) => ({ ...s, layout })); setActive(0); }} data-testid="wall-layout"
            options={layouts.map((l) => ({ value: l, label: <span data-testid={`wall-layout-${l}`}>{t('wall.layout', { n: l })}</span> }))} />
        </div>
        <div className="wall-grid" style={{ gridTemplateColumns: `repeat(${cols}, 1fr)`, gridTemplateRows: `repeat(${cols}, 1fr)` }} data-testid="wall-grid">
          {Array.from({ length: n }, (_, i) => {
            const id = saved.tiles[i];
            return (
              <LiveTile key={i} index={i} camera={id ? byId.get(id) : undefined} active={i === active} prefer={saved.prefer} purpose={ensure}
                onActivate={() => setActive(i)} onDrop={(cid) => put(i, cid)} onClear={() => put(i, null)} />
            );
          })}
        </div>
      </div>
      {purpose.modal}
    </div>
  );
}
