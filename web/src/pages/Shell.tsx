import { type ReactNode } from 'react';
import { Button, Layout, Menu, Space, Tooltip } from 'antd';
import {
  ApartmentOutlined, AuditOutlined, FileSearchOutlined, LogoutOutlined, SafetyCertificateOutlined,
  TeamOutlined, UserOutlined, BookOutlined, VideoCameraOutlined, ImportOutlined, EnvironmentOutlined, FileDoneOutlined,
  RadarChartOutlined, AppstoreOutlined, PlayCircleOutlined,
} from '@ant-design/icons';
import { useI18n, type MsgKey } from '../i18n';
import { navigate, usePath } from '../router';
import { heldPermissions, useSession } from '../session';
import LangSwitch from '../components/LangSwitch';

const registry = ['camera.admin', 'admin.units'];

/** The side menu: path, label, icon and the permissions (any of) that show it. */
export const menu: Array<{ path: string; label: MsgKey; icon: ReactNode; perm?: string | string[]; testid: string }> = [
  { path: '/wall', label: 'nav.wall', icon: <AppstoreOutlined />, perm: 'camera.live', testid: 'nav-wall' },
  { path: '/playback', label: 'nav.playback', icon: <PlayCircleOutlined />, perm: 'camera.playback', testid: 'nav-playback' },
  { path: '/cameras', label: 'nav.cameras', icon: <VideoCameraOutlined />, perm: registry, testid: 'nav-cameras' },
  { path: '/import', label: 'nav.import', icon: <ImportOutlined />, perm: registry, testid: 'nav-import' },
  { path: '/sites', label: 'nav.sites', icon: <EnvironmentOutlined />, perm: registry, testid: 'nav-sites' },
  { path: '/filings', label: 'nav.filings', icon: <FileDoneOutlined />, perm: registry, testid: 'nav-filings' },
  { path: '/coverage', label: 'nav.coverage', icon: <RadarChartOutlined />, perm: registry, testid: 'nav-coverage' },
  { path: '/units', label: 'nav.units', icon: <ApartmentOutlined />, perm: 'admin.units', testid: 'nav-units' },
  { path: '/users', label: 'nav.users', icon: <TeamOutlined />, perm: 'admin.users', testid: 'nav-users' },
  { path: '/roles', label: 'nav.roles', icon: <SafetyCertificateOutlined />, perm: 'admin.roles', testid: 'nav-roles' },
  { path: '/audit', label: 'nav.audit', icon: <AuditOutlined />, perm: 'audit.read', testid: 'nav-audit' },
  { path: '/access', label: 'nav.access', icon: <FileSearchOutlined />, perm: 'access.read', testid: 'nav-access' },
  { path: '/profile', label: 'nav.profile', icon: <BookOutlined />, testid: 'nav-profile' },
];

/** Whether a menu entry needing perm (any of) shows to someone holding held. */
export function shows(perm: string | string[] | undefined, held: Set<string>): boolean {
  if (!perm) return true;
  return (Array.isArray(perm) ? perm : [perm]).some((p) => held.has(p));
}

/** The frame around every page once signed in: header and side menu. */
export default function Shell({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { session, signOut } = useSession();
  const path = usePath();
  const held = heldPermissions(session);
  // A session that reports no permission list at all sees everything and the server refuses.
  const reported = session.permissions !== undefined || session.grants !== undefined;
  const visible = menu.filter((m) => !reported || shows(m.perm, held));
  const u = session.user;
  return (
    <Layout style={{ height: '100vh' }}>
      <Layout.Header className="shell-header">
        <span className="brand" data-testid="brand">{t('app.name')}</span>
        <span className="brand-sub">{t('app.fullName')}</span>
        <span className="spacer" />
        <Tooltip title={t('nav.account')}>
          <Button type="text" icon={<UserOutlined />} onClick={() => navigate('/account')} data-testid="header-user">
            <span className="who">{u.unit_name ? t('header.userAtUnit', { name: u.name, unit: u.unit_name }) : u.name}</span>
          </Button>
        </Tooltip>
        <Space size={0}>
          <LangSwitch />
          <Button type="text" icon={<LogoutOutlined />} onClick={() => void signOut()} data-testid="sign-out">
            {t('nav.signOut')}
          </Button>
        </Space>
      </Layout.Header>
      <Layout className="shell-body">
        <Layout.Sider width={200} theme="light" breakpoint="lg" collapsedWidth={56}>
          <Menu
            mode="inline"
            selectedKeys={[path]}
            style={{ height: '100%', borderInlineEnd: 0 }}
            onClick={(e) => navigate(e.key)}
            data-testid="side-menu"
            items={visible.map((m) => ({
              key: m.path,
              icon: m.icon,
              label: <span data-testid={m.testid}>{t(m.label)}</span>,
            }))}
          />
        </Layout.Sider>
        <Layout.Content className="shell-content">{children}</Layout.Content>
      </Layout>
    </Layout>
  );
}
