import { useState } from 'react';
import { Alert, Button, Form, Input, Modal, Select, Switch, Table, Tabs, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../testid';
import { UnitSelect, useUnits } from '../units';
import { useList, useSites } from '../registry/hooks';
import { siteCategories } from '../registry/labels';
import { zoneKinds, type Site, type Zone } from '../registry/types';
import Systems from '../registry/Systems';

/** Parses "lat,lon" pairs, one a line or separated by ";", into a polygon. */
export function parsePolygon(text: string): number[][] | null {
  const pts = text.split(/[\n;]+/).map((s) => s.trim()).filter(Boolean).map((s) => s.split(/[,\s]+/).map(Number));
  if (pts.length < 3 || pts.some((p) => p.length !== 2 || p.some((x) => !Number.isFinite(x)))) return null;
  return pts;
}

/** Sites (场所, REG-5/REG-9), protected zones (REG-7) and systems with their archive (REG-10). */
export default function Sites() {
  const { t } = useI18n();
  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.sites')}</Typography.Title>
      </div>
      <Tabs
        items={[
          { key: 'sites', label: <span data-testid="tab-sites">{t('site.tab')}</span>, children: <SiteList /> },
          { key: 'systems', label: <span data-testid="tab-systems">{t('system.tab')}</span>, children: <Systems /> },
          { key: 'zones', label: <span data-testid="tab-zones">{t('zone.tab')}</span>, children: <ZoneList /> },
        ]}
      />
    </>
  );
}

function SiteList() {
  const { t, tk } = useI18n();
  const { units } = useUnits(true);
  const sites = useSites();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const save = async (v: Record<string, unknown>) => {
    try {
      await api.post('/sites', v);
      setOpen(false);
      await sites.reload();
    } catch {
      // shown by the client
    }
  };
  return (
    <>
      <div className="page-toolbar">
        <span className="spacer" />
        <Button type="primary" icon={<PlusOutlined />} onClick={() => { form.resetFields(); setOpen(true); }} data-testid="site-new">{t('site.new')}</Button>
      </div>
      <Table<Site>
        rowKey="id" size="middle" loading={sites.loading} dataSource={sites.items} data-testid="site-table"
        columns={[
          { title: t('site.name'), dataIndex: 'name' },
          { title: t('site.unit'), dataIndex: 'unit_name' },
          { title: t('site.category'), dataIndex: 'category', render: (c: string) => tk(`siteCategory.${c}`, c) },
          {
            title: t('site.flags'), key: 'flags',
            render: (_: unknown, s) => (
              <>
                {s.mandated && <Tag color="blue">{t('site.mandated')}</Tag>}
                {s.anti_terror && <Tag color="red">{t('site.antiTerror')}</Tag>}
                {s.security_key && <Tag color="orange">{t('site.securityKey')}</Tag>}
                {s.public && <Tag>{t('site.public')}</Tag>}
              </>
            ),
          },
          { title: t('site.minRetention'), dataIndex: 'min_retention_days', render: (d?: number) => (d ? t('common.days', { n: d }) : '') },
          { title: t('site.address'), dataIndex: 'address' },
        ]}
      />
      <Modal open={open} title={t('site.new')} onCancel={() => setOpen(false)} onOk={() => form.submit()} okText={t('common.save')} cancelText={t('common.cancel')}
        okButtonProps={tid('site-submit')} forceRender>
        <Form form={form} layout="vertical" onFinish={save} name="site">
          <Form.Item name="name" label={t('site.name')} rules={[{ required: true, message: t('form.required') }]}><Input data-testid="site-form-name" /></Form.Item>
          <Form.Item name="unit_id" label={t('site.unit')} rules={[{ required: true, message: t('form.required') }]}>
            <UnitSelect units={units} testid="site-form-unit" />
          </Form.Item>
          <Form.Item name="category" label={t('site.category')} rules={[{ required: true, message: t('form.required') }]}>
            <Select showSearch={{ optionFilterProp: 'label' }} options={siteCategories.map((c) => ({ value: c, label: tk(`siteCategory.${c}`, c) }))} data-testid="site-form-category" />
          </Form.Item>
          <Form.Item name="address" label={t('site.address')}><Input data-testid="site-form-address" /></Form.Item>
          <Form.Item name="anti_terror" label={t('site.antiTerror')} valuePropName="checked" initialValue={false}><Switch /></Form.Item>
          <Form.Item name="security_key" label={t('site.securityKey')} valuePropName="checked" initialValue={false}><Switch /></Form.Item>
          <Form.Item name="public" label={t('site.public')} valuePropName="checked" initialValue={false}><Switch /></Form.Item>
        </Form>
      </Modal>
    </>
  );
}

function ZoneList() {
  const { t, tk } = useI18n();
  const zones = useList<Zone>('/zones', 'zones');
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [form] = Form.useForm<{ name: string; kind: string; polygon: string }>();
  const save = async (v: { name: string; kind: string; polygon: string }) => {
    const polygon = parsePolygon(v.polygon);
    if (!polygon) {
      setError(t('zone.polygonInvalid'));
      return;
    }
    try {
      await api.post('/zones', { name: v.name, kind: v.kind, polygon }, { quiet: true });
      setOpen(false);
      await zones.reload();
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <>
      <div className="page-toolbar">
        <span className="spacer" />
        <Button type="primary" icon={<PlusOutlined />} onClick={() => { form.resetFields(); setError(null); setOpen(true); }} data-testid="zone-new">{t('zone.new')}</Button>
      </div>
      <Table<Zone>
        rowKey="id" size="middle" loading={zones.loading} dataSource={zones.items} data-testid="zone-table"
        columns={[
          { title: t('zone.name'), dataIndex: 'name' },
          { title: t('zone.kind'), dataIndex: 'kind', render: (k: string) => tk(`zoneKind.${k}`, k) },
          { title: t('zone.polygon'), dataIndex: 'polygon', render: (p: number[][]) => <span className="mono">{p.map((x) => x.join(',')).join('; ')}</span> },
        ]}
      />
      <Modal open={open} title={t('zone.new')} onCancel={() => setOpen(false)} onOk={() => form.submit()} okText={t('common.save')} cancelText={t('common.cancel')}
        okButtonProps={tid('zone-submit')} forceRender>
        {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} data-testid="zone-error" />}
        <Form form={form} layout="vertical" onFinish={save} name="zone" initialValues={{ kind: 'military' }}>
          <Form.Item name="name" label={t('zone.name')} rules={[{ required: true, message: t('form.required') }]}><Input data-testid="zone-form-name" /></Form.Item>
          <Form.Item name="kind" label={t('zone.kind')}>
            <Select options={zoneKinds.map((k) => ({ value: k, label: tk(`zoneKind.${k}`, k) }))} data-testid="zone-form-kind" />
          </Form.Item>
          <Form.Item name="polygon" label={t('zone.polygon')} extra={t('zone.polygonHelp')} rules={[{ required: true, message: t('form.required') }]}>
            <Input.TextArea rows={5} className="mono" data-testid="zone-form-polygon" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
