import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, type ComponentType } from 'react';
import { App as AntApp, ConfigProvider, Result, Spin } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { api, configureApi, setCsrf, ApiError } from './api';
import { useI18n } from './i18n';
import { navigate, usePath } from './router';
import { SessionContext, heldPermissions, type SessionCtx } from './session';
import type { Session } from './types';
import SignIn from './pages/SignIn';
import Reauth from './components/Reauth';
import Shell, { menu, shows } from './pages/Shell';

const pages: Record<string, ComponentType> = {
  '/wall': lazy(() => import('./pages/Wall')),
  '/playback': lazy(() => import('./pages/Playback')),
  '/cameras': lazy(() => import('./pages/Cameras')),
  '/import': lazy(() => import('./pages/Import')),
  '/sites': lazy(() => import('./pages/Sites')),
  '/filings': lazy(() => import('./pages/Filings')),
  '/coverage': lazy(() => import('./pages/Coverage')),
  '/units': lazy(() => import('./pages/Units')),
  '/users': lazy(() => import('./pages/Users')),
  '/roles': lazy(() => import('./pages/Roles')),
  '/audit': lazy(() => import('./pages/Audit')),
  '/access': lazy(() => import('./pages/Access')),
  '/profile': lazy(() => import('./pages/Profile')),
  '/account': lazy(() => import('./pages/Account')),
};

export default function Root() {
  const { lang, t } = useI18n();
  useEffect(() => {
    dayjs.locale(lang === 'zh-CN' ? 'zh-cn' : 'en');
    document.title = t('app.title');
  }, [lang, t]);
  return (
    <ConfigProvider locale={lang === 'zh-CN' ? zhCN : enUS} theme={{ token: { colorPrimary: '#1f3a5f' } }}>
      <AntApp>
        <Main />
      </AntApp>
    </ConfigProvider>
  );
}

function Main() {
  const { t } = useI18n();
  const { notification } = AntApp.useApp();
  const path = usePath();
  // undefined: still asking the server; null: signed out.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  // The pending re-authentication: its resolver, while the dialog is open.
  const [reauthOpen, setReauthOpen] = useState(false);
  const reauthDone = useRef<((ok: boolean) => void) | null>(null);

  useEffect(() => {
    configureApi({
      reauth: () =>
        new Promise<boolean>((resolve) => {
          reauthDone.current?.(false);
          reauthDone.current = resolve;
          setReauthOpen(true);
        }),
      notify: (err: ApiError) =>
        notification.error({
          title: err.status === 0 ? t('error.network') : t('error.title'),
          description: err.message,
          placement: 'topRight',
        }),
      unauthorized: () => {
        setCsrf('');
        setSession(null);
      },
    });
  }, [notification, t]);

  const load = useCallback(async (extra?: Partial<Session>) => {
    try {
      const s = await api.get<Session>('/session', { quiet: true, noRedirect: true });
      setCsrf(s.csrf);
      setSession({ ...s, ...extra });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) {
        notification.error({ title: t('error.title'), description: e instanceof Error ? e.message : String(e) });
      }
      setSession(null);
    }
  }, [notification, t]);

  useEffect(() => {
    void load();
  }, [load]);

  // Keep the path and the session consistent.
  useEffect(() => {
    if (session === null && path !== '/signin') navigate('/signin', true);
    if (session && (path === '/signin' || path === '/')) {
      if (session.must_change_password) {
        navigate('/account', true);
        return;
      }
      const held = heldPermissions(session);
      const first = menu.find((m) => session.permissions === undefined || shows(m.perm, held));
      navigate(first?.path ?? '/profile', true);
    }
  }, [session, path]);

  const ctx = useMemo<SessionCtx | null>(() => {
    if (!session) return null;
    return {
      session,
      refresh: () => load(),
      signOut: async () => {
        try {
          await api.del('/session', { noRedirect: true });
        } finally {
          setCsrf('');
          setSession(null);
        }
      },
    };
  }, [session, load]);

  if (session === undefined) {
    return <Spin fullscreen />;
  }
  if (!ctx) {
    return <SignIn onSignedIn={(mustChange) => load({ must_change_password: mustChange })} />;
  }
  const Page = pages[path];
  return (
    <SessionContext.Provider value={ctx}>
      <Shell>
        <Suspense fallback={<Spin />}>{Page ? <Page /> : path === '/' ? <Spin /> : <Result status="404" title={t('error.notFound')} />}</Suspense>
      </Shell>
      <Reauth
        open={reauthOpen}
        totp={Boolean(ctx.session.user.totp_enabled)}
        onDone={(ok) => {
          setReauthOpen(false);
          reauthDone.current?.(ok);
          reauthDone.current = null;
        }}
      />
    </SessionContext.Provider>
  );
}
