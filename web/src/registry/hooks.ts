// Data the registry pages share: sites, systems, the profile's prohibited
// place types, and label helpers.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import type { I18n } from '../i18n';
import { placeTypes, siteCategories } from './labels';
import type { Site, System } from './types';

/** GET a list answer {key: T[]} with a reload function; refusals are quiet. */
export function useList<T>(path: string, key: string) {
  const [items, setItems] = useState<T[]>([]);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const r = await api.get<Record<string, T[]>>(path, { quiet: true });
      setItems(r[key] ?? []);
    } catch {
      setItems([]);
    } finally {
      setLoading(false);
    }
  }, [path, key]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { items, loading, reload };
}

export const useSites = () => useList<Site>('/sites', 'sites');
export const useSystems = () => useList<System>('/systems', 'systems');

/** The place types the active profile prohibits (REG-6), from GET /profile. */
export function useProhibitedPlaces(): Set<string> {
  const [set, setSet] = useState<Set<string>>(new Set());
  useEffect(() => {
    api
      .get<{ privacy?: { prohibited_places?: Record<string, { value: boolean }> } }>('/profile', { quiet: true })
      .then((p) => {
        const m = p.privacy?.prohibited_places ?? {};
        setSet(new Set(Object.keys(m).filter((k) => m[k]?.value)));
      })
      .catch(() => setSet(new Set()));
  }, []);
  return set;
}

export function placeLabel(tk: I18n['tk'], code?: string): string {
  if (!code) return '';
  return tk(`siteCategory.${code}`, tk(`placeType.${code}`, code));
}

/** Options of the place type select: site categories, then privacy places (marked when prohibited). */
export function placeOptions(i: Pick<I18n, 't' | 'tk'>, prohibited: Set<string>) {
  return [
    {
      label: i.t('camera.placeGroupSites'),
      title: 'sites',
      options: siteCategories.map((c) => ({ value: c, label: i.tk(`siteCategory.${c}`, c) })),
    },
    {
      label: i.t('camera.placeGroupPrivacy'),
      title: 'privacy',
      options: placeTypes.map((c) => ({
        value: c,
        label: prohibited.has(c) ? i.t('camera.placeProhibited', { place: i.tk(`placeType.${c}`, c) }) : i.tk(`placeType.${c}`, c),
      })),
    },
  ];
}

/** Formats a share 0…1 as a percentage. */
export const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
