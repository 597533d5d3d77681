// Units as a tree, shared by the pages that pick a unit.
import { useCallback, useEffect, useState } from 'react';
import { TreeSelect } from 'antd';
import { api } from './api';
import { useI18n } from './i18n';
import type { Unit } from './types';

export interface UnitNode extends Unit {
  children?: UnitNode[];
}

/** Builds the tree from the flat list; units whose parent is absent are roots. */
export function unitTree(units: Unit[]): UnitNode[] {
  const byId = new Map<string, UnitNode>();
  for (const u of units) byId.set(u.id, { ...u });
  const roots: UnitNode[] = [];
  for (const n of byId.values()) {
    const parent = n.parent_id ? byId.get(n.parent_id) : undefined;
    if (parent && parent !== n) (parent.children ??= []).push(n);
    else roots.push(n);
  }
  const sort = (ns: UnitNode[]) => {
    ns.sort((a, b) => a.name.localeCompare(b.name));
    for (const n of ns) if (n.children) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** GET /units, with a reload function. quiet: a refusal is not shown (pages usable without admin.units). */
export function useUnits(quiet = false) {
  const [units, setUnits] = useState<Unit[]>([]);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const r = await api.get<{ units: Unit[] }>('/units', { quiet });
      setUnits(r.units ?? []);
    } catch {
      // shown by the client
    } finally {
      setLoading(false);
    }
  }, [quiet]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { units, loading, reload };
}

interface TreeData {
  value: string;
  title: string;
  children?: TreeData[];
  disabled?: boolean;
}

function toTreeData(ns: UnitNode[], exclude?: string): TreeData[] {
  return ns.map((n) => ({
    value: n.id,
    title: n.name,
    disabled: n.id === exclude,
    children: n.children ? toTreeData(n.children, exclude) : undefined,
  }));
}

/** A unit picker (a searchable tree). exclude disables one unit (a unit cannot be its own parent). */
export function UnitSelect(props: {
  units: Unit[];
  value?: string;
  onChange?: (v: string | undefined) => void;
  allowClear?: boolean;
  exclude?: string;
  placeholder?: string;
  style?: React.CSSProperties;
  testid?: string;
}) {
  const { t } = useI18n();
  return (
    <div data-testid={props.testid} style={props.style}>
      <TreeSelect
        style={{ width: '100%' }}
        value={props.value || undefined}
        onChange={(v) => props.onChange?.(v ?? undefined)}
        treeData={toTreeData(unitTree(props.units), props.exclude)}
        treeDefaultExpandAll
        showSearch={{ treeNodeFilterProp: 'title' }}
        allowClear={props.allowClear}
        placeholder={props.placeholder ?? t('unit.pick')}
        popupMatchSelectWidth={false}
      />
    </div>
  );
}
