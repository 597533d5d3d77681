import { useEffect, useMemo, useState } from 'react';
import { Badge, Input, Spin, Tree } from 'antd';
import type { DataNode } from 'antd/es/tree';
import { api } from '../api';
import { useI18n } from '../i18n';
import type { Camera, Site } from '../registry/types';

/** GET /cameras (every file the user may read, live or not deregistered). */
export function useCameras() {
  const [cameras, setCameras] = useState<Camera[]>([]);
  const [sites, setSites] = useState<Site[]>([]);
  const [loading, setLoading] = useState(true);
  useEffect(() => {
    Promise.all([
      api.get<{ cameras: Camera[] }>('/cameras?limit=1000', { quiet: true }).then((r) => r.cameras ?? [], () => []),
      api.get<{ sites: Site[] }>('/sites', { quiet: true }).then((r) => r.sites ?? [], () => []),
    ]).then(([c, s]) => {
      setCameras(c.filter((x) => x.state !== 'deregistered'));
      setSites(s);
      setLoading(false);
    });
  }, []);
  return { cameras, sites, loading };
}

/** The MIME type the tree sets on drag; a tile accepts drops of it. */
export const dragType = 'application/x-vigil-camera';

/**
 * The camera tree by unit and site, with search and the online state; a
 * camera is clicked (onPick) or dragged onto a tile.
 */
export default function CameraTree(props: { cameras: Camera[]; sites: Site[]; loading: boolean; onPick: (c: Camera) => void; selected?: string[] }) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const data = useMemo<DataNode[]>(() => {
    const siteName = new Map(props.sites.map((s) => [s.id, s.name]));
    const needle = q.trim().toLowerCase();
    const units = new Map<string, Map<string, Camera[]>>();
    for (const c of props.cameras) {
      if (needle && !`${c.name} ${c.code} ${c.address ?? ''}`.toLowerCase().includes(needle)) continue;
      const u = c.unit_name || c.unit_id;
      const s = (c.site_id && siteName.get(c.site_id)) || t('wall.noSite');
      if (!units.has(u)) units.set(u, new Map());
      const m = units.get(u)!;
      if (!m.has(s)) m.set(s, []);
      m.get(s)!.push(c);
    }
    return [...units.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([u, m]) => ({
      key: `u:${u}`,
      title: u,
      selectable: false,
      children: [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, cs]) => ({
        key: `s:${u}:${s}`,
        title: s,
        selectable: false,
        children: cs.sort((a, b) => a.name.localeCompare(b.name)).map((c) => ({
          key: c.id,
          isLeaf: true,
          title: (
            <span
              draggable
              onDragStart={(e) => {
                e.dataTransfer.setData(dragType, c.id);
                e.dataTransfer.effectAllowed = 'copy';
              }}
              data-testid={`tree-camera-${c.code}`}
              data-camera={c.id}
            >
              <Badge status={c.state === 'online' ? 'success' : c.state === 'offline' ? 'error' : 'default'} />
              {' '}{c.name}
            </span>
          ),
        })),
      })),
    }));
  }, [props.cameras, props.sites, q, t]);

  const byId = useMemo(() => new Map(props.cameras.map((c) => [c.id, c])), [props.cameras]);
  return (
    <div className="camera-tree">
      <Input.Search allowClear placeholder={t('wall.search')} onChange={(e) => setQ(e.target.value)} data-testid="tree-search" style={{ marginBottom: 8 }} />
      {props.loading ? <Spin /> : (
        <Tree
          blockNode
          defaultExpandAll
          key={`${data.length}:${q}`}
          treeData={data}
          selectedKeys={props.selected ?? []}
          onSelect={(_, info) => {
            const c = byId.get(String(info.node.key));
            if (c) props.onPick(c);
          }}
          data-testid="camera-tree"
        />
      )}
    </div>
  );
}
