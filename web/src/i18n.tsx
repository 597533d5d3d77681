// Internationalisation: every string the console shows comes from
// locales/zh-CN.json or locales/en.json. Keys are checked at compile time
// against zh-CN.json; a Go test (web/locales_test.go) checks that en.json
// has the same keys and that every key used in the source exists.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import zhCN from './locales/zh-CN.json';
import en from './locales/en.json';

export type Lang = 'zh-CN' | 'en';
export type MsgKey = keyof typeof zhCN;
export type Params = Record<string, string | number>;

const catalogs: Record<Lang, Record<string, string>> = { 'zh-CN': zhCN, en };
const storageKey = 'vigil.lang';

/** The language to start in: the remembered choice, else the browser's. */
export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(storageKey);
    if (saved === 'zh-CN' || saved === 'en') return saved;
  } catch {
    // storage disabled: fall back to the browser language
  }
  const nav = (navigator.languages?.[0] ?? navigator.language ?? '').toLowerCase();
  return nav.startsWith('zh') ? 'zh-CN' : 'en';
}

/** The cookie tells the server which language to answer API errors in. */
function rememberLang(lang: Lang) {
  try {
    localStorage.setItem(storageKey, lang);
  } catch {
    // ignore
  }
  document.cookie = `lang=${lang}; path=/; max-age=31536000; samesite=strict`;
  document.documentElement.lang = lang;
}

function render(tmpl: string, params?: Params): string {
  if (!params) return tmpl;
  return tmpl.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

export interface I18n {
  lang: Lang;
  setLang: (l: Lang) => void;
  /** A message by a key known at compile time. */
  t: (key: MsgKey, params?: Params) => string;
  /** A message by a key built at run time (e.g. "perm." + name); fallback when absent. */
  tk: (key: string, fallback: string, params?: Params) => string;
  /** Formats an RFC 3339 time in the browser's local time zone. */
  time: (iso?: string | null) => string;
}

const Ctx = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => {
    const l = initialLang();
    rememberLang(l);
    return l;
  });
  const setLang = useCallback((l: Lang) => {
    rememberLang(l);
    setLangState(l);
  }, []);
  const value = useMemo<I18n>(() => {
    const cat = catalogs[lang];
    const fmt = new Intl.DateTimeFormat(lang === 'zh-CN' ? 'zh-CN' : 'en-GB', {
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
    });
    return {
      lang,
      setLang,
      t: (key, params) => render(cat[key] ?? catalogs.en[key] ?? key, params),
      tk: (key, fallback, params) => {
        const tmpl = cat[key];
        return tmpl === undefined ? fallback : render(tmpl, params);
      },
      time: (iso) => {
        if (!iso) return '';
        const d = new Date(iso);
        return Number.isNaN(d.getTime()) ? iso : fmt.format(d);
      },
    };
  }, [lang, setLang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
