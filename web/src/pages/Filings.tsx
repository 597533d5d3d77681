import { useCallback, useEffect, useState } from 'react';
import { Button, Form, Input, Modal, Select, Space, Switch, Table, Tabs, Tag, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { api, base, withQuery } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../testid';
import { UnitSelect, useUnits } from '../units';
import { useSystems } from '../registry/hooks';
import { filingKinds, filingStates, type Filing, type FilingDue, type System } from '../registry/types';

const stateColor: Record<string, string> = { submitted: 'blue', accepted: 'green', returned: 'orange', missing: 'red', pending: 'blue', no_date: 'default' };

/**
 * Filing (备案, REG-3): a unit submits a filing for a system; the district
 * police accept it or return it with a reason; systems whose filing is
 * missing or late are listed.
 */
export default function Filings() {
  const { t } = useI18n();
  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.filings')}</Typography.Title>
      </div>
      <Tabs
        destroyOnHidden
        items={[
          { key: 'submit', label: <span data-testid="tab-filing-submit">{t('filing.tabSubmit')}</span>, children: <Submit /> },
          { key: 'inbox', label: <span data-testid="tab-filing-inbox">{t('filing.tabInbox')}</span>, children: <Inbox /> },
          { key: 'overdue', label: <span data-testid="tab-filing-overdue">{t('filing.tabOverdue')}</span>, children: <Overdue /> },
        ]}
      />
    </>
  );
}

function latest(s: System): Filing | undefined {
  const fs = s.filings ?? [];
  return fs[fs.length - 1];
}

/** The unit's side: its systems and their filings, and the submission form. */
function Submit() {
  const { t, tk } = useI18n();
  const systems = useSystems();
  const [detail, setDetail] = useState<Record<string, System>>({});
  const [submitting, setSubmitting] = useState<System | null>(null);
  const [form] = Form.useForm<{ kind: string; locations?: string; note?: string }>();

  // The list answer may leave out filings; read each system once for them.
  useEffect(() => {
    let stop = false;
    void Promise.all(systems.items.map((s) => api.get<System>(`/systems/${encodeURIComponent(s.id)}`, { quiet: true }).catch(() => s))).then((ss) => {
      if (!stop) setDetail(Object.fromEntries(ss.map((s) => [s.id, s])));
    });
    return () => {
      stop = true;
    };
  }, [systems.items]);

  const submit = async (v: { kind: string; locations?: string; note?: string }) => {
    if (!submitting) return;
    const locations = (v.locations ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
    try {
      await api.post('/filings', { system_id: submitting.id, kind: v.kind, locations: locations.length ? locations : undefined, note: v.note ?? '' });
      setSubmitting(null);
      await systems.reload();
    } catch {
      // shown by the client
    }
  };

  return (
    <>
      <Table<System>
        rowKey="id" size="middle" loading={systems.loading} dataSource={systems.items.map((s) => detail[s.id] ?? s)} data-testid="filing-systems"
        columns={[
          { title: t('system.name'), dataIndex: 'name' },
          { title: t('system.unit'), dataIndex: 'unit_name' },
          { title: t('system.inUseOn'), dataIndex: 'in_use_on' },
          { title: t('system.cameraCount'), dataIndex: 'camera_count' },
          {
            title: t('filing.latest'), key: 'latest',
            render: (_: unknown, s) => {
              const f = latest(s);
              if (!f) return <Tag color="red" data-testid={`filing-latest-${s.name}`} data-state="none">{t('filing.none')}</Tag>;
              return (
                <Space>
                  <Tag color={stateColor[f.state]} data-testid={`filing-latest-${s.name}`} data-state={f.state}>{tk(`filingState.${f.state}`, f.state)}</Tag>
                  {f.reason && <span>{t('filing.returnedBecause', { reason: f.reason })}</span>}
                </Space>
              );
            },
          },
          {
            title: t('common.actions'), key: 'a',
            render: (_: unknown, s) => (
              <Space size={0}>
                <Button size="small" type="link" onClick={() => { form.resetFields(); form.setFieldsValue({ kind: latest(s)?.state === 'accepted' ? 'change' : 'initial' }); setSubmitting(s); }}
                  data-testid={`filing-submit-${s.name}`}>{t('filing.submit')}</Button>
                {latest(s) && (
                  <Button size="small" type="link" href={`${base}/filings/${encodeURIComponent(latest(s)!.id)}/form`}>{t('filing.form')}</Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal open={submitting !== null} title={t('filing.submitTitle', { name: submitting?.name ?? '' })} onCancel={() => setSubmitting(null)} onOk={() => form.submit()}
        okText={t('filing.submit')} cancelText={t('common.cancel')} okButtonProps={tid('filing-form-submit')} forceRender>
        <Form form={form} layout="vertical" onFinish={submit} name="filing">
          <Form.Item name="kind" label={t('filing.kind')} rules={[{ required: true, message: t('form.required') }]}>
            <Select options={filingKinds.map((k) => ({ value: k, label: tk(`filingKind.${k}`, k) }))} data-testid="filing-form-kind" />
          </Form.Item>
          <Form.Item name="locations" label={t('filing.locations')} extra={t('filing.locationsHelp')}>
            <Input.TextArea rows={3} data-testid="filing-form-locations" />
          </Form.Item>
          <Form.Item name="note" label={t('filing.note')}>
            <Input.TextArea rows={2} data-testid="filing-form-note" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

/** The police side: filings to review, accepted or returned with a reason. */
function Inbox() {
  const { t, tk, time } = useI18n();
  const [state, setState] = useState<string | undefined>('submitted');
  const [items, setItems] = useState<Filing[]>([]);
  const [loading, setLoading] = useState(false);
  const [returning, setReturning] = useState<Filing | null>(null);
  const [form] = Form.useForm<{ reason: string }>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const r = await api.get<{ filings: Filing[] }>(withQuery('/filings', { state }));
      setItems(r.filings ?? []);
    } catch {
      setItems([]);
    } finally {
      setLoading(false);
    }
  }, [state]);
  useEffect(() => {
    void load();
  }, [load]);

  const accept = async (f: Filing) => {
    try {
      await api.post(`/filings/${encodeURIComponent(f.id)}/accept`);
      await load();
    } catch {
      // shown by the client
    }
  };
  const ret = async (v: { reason: string }) => {
    if (!returning) return;
    try {
      await api.post(`/filings/${encodeURIComponent(returning.id)}/return`, v);
      setReturning(null);
      await load();
    } catch {
      // shown by the client
    }
  };

  return (
    <>
      <div className="page-toolbar">
        <Select allowClear value={state} onChange={setState} style={{ width: 180 }} placeholder={t('filing.state')} data-testid="filing-inbox-state"
          options={filingStates.map((s) => ({ value: s, label: tk(`filingState.${s}`, s) }))} />
        <Button icon={<ReloadOutlined />} onClick={() => void load()} data-testid="filing-inbox-reload">{t('common.reload')}</Button>
      </div>
      <Table<Filing>
        rowKey="id" size="middle" loading={loading} dataSource={items} data-testid="filing-inbox"
        columns={[
          { title: t('filing.unit'), key: 'u', render: (_: unknown, f) => f.content?.unit_name },
          { title: t('filing.system'), key: 's', render: (_: unknown, f) => <span data-testid="filing-inbox-system">{f.content?.system_name}</span> },
          { title: t('filing.kind'), dataIndex: 'kind', render: (k: string) => tk(`filingKind.${k}`, k) },
          { title: t('filing.cameras'), key: 'c', render: (_: unknown, f) => f.content?.camera_count ?? 0 },
          { title: t('filing.locations'), key: 'l', render: (_: unknown, f) => (f.content?.locations ?? []).join(t('common.listSep')) },
          { title: t('filing.submittedAt'), dataIndex: 'submitted_at', render: (v: string) => time(v) },
          { title: t('filing.state'), dataIndex: 'state', render: (s: string, f) => <Tag color={stateColor[s]} data-testid={`filing-state-${f.content?.system_name ?? f.id}`}>{tk(`filingState.${s}`, s)}</Tag> },
          {
            title: t('common.actions'), key: 'a',
            render: (_: unknown, f) => f.state === 'submitted' && (
              <Space size={0}>
                <Button size="small" type="link" onClick={() => void accept(f)} data-testid={`filing-accept-${f.content?.system_name ?? f.id}`}>{t('filing.accept')}</Button>
                <Button size="small" type="link" danger onClick={() => { form.resetFields(); setReturning(f); }} data-testid={`filing-return-${f.content?.system_name ?? f.id}`}>
                  {t('filing.return')}
                </Button>
              </Space>
            ),
          },
        ]}
      />
      <Modal open={returning !== null} title={t('filing.returnTitle')} onCancel={() => setReturning(null)} onOk={() => form.submit()} okText={t('filing.return')}
        cancelText={t('common.cancel')} okButtonProps={tid('filing-return-submit')} forceRender>
        <Form form={form} layout="vertical" onFinish={ret} name="return">
          <Form.Item name="reason" label={t('filing.reason')} rules={[{ required: true, message: t('form.required') }]}>
            <Input.TextArea rows={3} data-testid="filing-return-reason" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

/** Systems whose filing is missing, returned or pending (REG-3), per unit. */
function Overdue() {
  const { t, tk } = useI18n();
  const { units } = useUnits(true);
  const [unitId, setUnitId] = useState<string | undefined>();
  const [all, setAll] = useState(false);
  const [items, setItems] = useState<FilingDue[]>([]);
  const [loading, setLoading] = useState(false);
  const load = useCallback(async () => {
    setLoading(true);
    try {
      const r = await api.get<{ systems: FilingDue[] }>(withQuery('/filings/overdue', { unit_id: unitId, all: all ? 'true' : undefined }));
      setItems(r.systems ?? []);
    } catch {
      setItems([]);
    } finally {
      setLoading(false);
    }
  }, [unitId, all]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <>
      <div className="page-toolbar">
        <UnitSelect units={units} allowClear value={unitId} onChange={setUnitId} style={{ width: 240 }} testid="overdue-unit" placeholder={t('camera.filterUnit')} />
        <Space>
          <Switch checked={all} onChange={setAll} data-testid="overdue-all" />
          <span>{t('filing.showAllDue')}</span>
        </Space>
        <Button icon={<ReloadOutlined />} onClick={() => void load()} data-testid="overdue-reload">{t('common.reload')}</Button>
      </div>
      <Table<FilingDue>
        rowKey="system_id" size="middle" loading={loading} dataSource={items} data-testid="overdue-table"
        columns={[
          { title: t('filing.unit'), dataIndex: 'unit_name' },
          { title: t('filing.system'), dataIndex: 'system_name', render: (v: string) => <span data-testid="overdue-system">{v}</span> },
          { title: t('filing.status'), dataIndex: 'status', render: (s: string) => <Tag color={stateColor[s]}>{tk(`dueStatus.${s}`, s)}</Tag> },
          { title: t('filing.triggerOn'), dataIndex: 'trigger_on' },
          { title: t('filing.dueOn'), dataIndex: 'due_on' },
          { title: t('filing.daysOverdue'), dataIndex: 'days_overdue', render: (d: number, r) => (r.overdue ? <Tag color="red">{t('common.days', { n: d ?? 0 })}</Tag> : '') },
          { title: t('filing.cite'), dataIndex: 'cite', render: (c?: string[]) => (c ?? []).map((x) => <Tag key={x} color="blue">{x}</Tag>) },
        ]}
      />
    </>
  );
}
