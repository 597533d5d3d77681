import { useEffect, useState, type ReactNode } from 'react';
import { Card, Collapse, Descriptions, Empty, Space, Spin, Tag, Typography } from 'antd';
import { api } from '../api';
import { useI18n } from '../i18n';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: Json): v is { [k: string]: Json } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A cited value: {value, cite:[…]} — the profile's leaf. */
function isCited(v: Json): v is { value: Json; cite: Json } {
  return isObject(v) && 'value' in v && 'cite' in v;
}

/**
 * The active jurisdiction profile (地方规定): every value with the articles it
 * comes from. Rendered generically from the JSON so that the page follows
 * the profile's shape as it grows.
 */
export default function Profile() {
  const { t, tk, lang } = useI18n();
  const [profile, setProfile] = useState<{ [k: string]: Json } | null>(null);
  const [names, setNames] = useState<{ profiles: string[]; active: string } | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    Promise.all([api.get<{ [k: string]: Json }>('/profile'), api.get<{ profiles: string[]; active: string }>('/profiles', { quiet: true }).catch(() => null)])
      .then(([p, n]) => {
        setProfile(p);
        setNames(n);
      }, () => setProfile(null))
      .finally(() => setLoading(false));
  }, []);

  const label = (k: string) => tk(`profileKey.${k}`, k);

  const cites = (c: Json) =>
    Array.isArray(c) && c.length > 0 ? (
      <Space size={[4, 4]} wrap>
        {c.map((x, i) => (
          <Tag key={i} color="blue" data-testid="profile-cite">{String(x)}</Tag>
        ))}
      </Space>
    ) : null;

  const value = (v: Json, depth: number): ReactNode => {
    if (v === null || v === undefined) return <Typography.Text type="secondary">{t('profile.none')}</Typography.Text>;
    if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
    if (typeof v === 'number' || typeof v === 'string') return String(v);
    if (isCited(v)) {
      return (
        <Space direction="vertical" size={2}>
          <span>{value(v.value, depth + 1)}</span>
          {cites(v.cite)}
        </Space>
      );
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return <Typography.Text type="secondary">{t('profile.none')}</Typography.Text>;
      if (v.every((x) => x === null || typeof x !== 'object')) {
        return (
          <Space size={[4, 4]} wrap>
            {v.map((x, i) => (
              <Tag key={i}>{String(x)}</Tag>
            ))}
          </Space>
        );
      }
      return (
        <Space direction="vertical" style={{ width: '100%' }}>
          {v.map((x, i) => (
            <Card key={i} size="small">{value(x, depth + 1)}</Card>
          ))}
        </Space>
      );
    }
    const entries = Object.entries(v);
    if (entries.length === 0) return <Typography.Text type="secondary">{t('profile.none')}</Typography.Text>;
    return (
      <Descriptions size="small" column={1} bordered={depth < 3} styles={{ label: { width: 220 } }}>
        {entries.map(([k, x]) => (
          <Descriptions.Item key={k} label={label(k)}>
            {value(x, depth + 1)}
          </Descriptions.Item>
        ))}
      </Descriptions>
    );
  };

  if (loading) return <Spin />;
  if (!profile) return <Empty />;

  const scalars = Object.entries(profile).filter(([, v]) => !isObject(v) || isCited(v));
  const sections = Object.entries(profile).filter(([, v]) => isObject(v) && !isCited(v));
  const title = (lang === 'en' && typeof profile.title_en === 'string' && profile.title_en) || (typeof profile.title === 'string' ? profile.title : '');

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.profile')}</Typography.Title>
        {names && <Tag color="geekblue" data-testid="profile-active">{names.active}</Tag>}
        <span className="spacer" />
        {names && names.profiles.length > 0 && (
          <Typography.Text type="secondary">{t('profile.available', { names: names.profiles.join(', ') })}</Typography.Text>
        )}
      </div>
      {title && <Typography.Paragraph strong>{title}</Typography.Paragraph>}
      <Card size="small" style={{ marginBottom: 16 }}>{value(Object.fromEntries(scalars), 0)}</Card>
      <Collapse
        defaultActiveKey={sections.map(([k]) => k)}
        items={sections.map(([k, v]) => ({ key: k, label: label(k), children: value(v, 1) }))}
      />
    </>
  );
}
