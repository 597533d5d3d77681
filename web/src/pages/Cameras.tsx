import { useCallback, useEffect, useState } from 'react';
import { Button, Drawer, Form, Input, Modal, Progress, Select, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { HistoryOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { api, withQuery } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../testid';
import { UnitSelect, useUnits } from '../units';
import CameraForm from '../registry/CameraForm';
import { placeLabel } from '../registry/hooks';
import { cameraStates, type Camera, type CameraChange, type Ingest } from '../registry/types';

const ingestColor: Record<string, string> = { idle: 'default', connecting: 'blue', streaming: 'green', failing: 'red' };
const ingestCounters = ['packets_lost', 'frames_dropped', 'frames_damaged', 'reconnects', 'fallbacks', 'clock_corrections', 'timestamp_jumps',
  'ssrc_changes', 'bad_header_lines', 'auth_retries'] as const;

const stateColor: Record<string, string> = { registered: 'default', admitted: 'blue', online: 'green', offline: 'orange', deregistered: 'red' };

/** Camera files (一机一档, REG-1/REG-2): filters, completeness, the file form, lifecycle actions, history. */
export default function Cameras() {
  const { t, tk, time } = useI18n();
  const { units } = useUnits(true);
  const [filter, setFilter] = useState<{ unit_id?: string; state?: string; q?: string; incomplete?: boolean }>({});
  const [page, setPage] = useState({ current: 1, size: 20 });
  const [data, setData] = useState<{ cameras: Camera[]; total: number }>({ cameras: [], total: 0 });
  const [loading, setLoading] = useState(false);
  const [editing, setEditing] = useState<Camera | 'new' | null>(null);
  const [history, setHistory] = useState<{ camera: Camera; changes: CameraChange[] } | null>(null);
  const [deregistering, setDeregistering] = useState<Camera | null>(null);
  const [deregForm] = Form.useForm<{ reason: string; replacement_plan?: string }>();
  const [ingest, setIngest] = useState<Record<string, Ingest>>({});

  // The live ingest state of the cameras the recorder pulls (MED-1), every 5 s.
  useEffect(() => {
    let stop = false;
    const poll = async () => {
      try {
        const r = await api.get<{ cameras: Ingest[] }>('/ingest', { quiet: true });
        if (!stop) setIngest(Object.fromEntries((r.cameras ?? []).map((x) => [x.camera_id, x])));
      } catch {
        // not shown: the column stays as it was
      }
    };
    void poll();
    const id = window.setInterval(() => void poll(), 5000);
    return () => { stop = true; window.clearInterval(id); };
  }, []);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const r = await api.get<{ cameras: Camera[]; total: number }>(withQuery('/cameras', {
        unit_id: filter.unit_id, state: filter.state, q: filter.q, incomplete: filter.incomplete ? 'true' : undefined,
        limit: page.size, offset: (page.current - 1) * page.size,
      }));
      setData({ cameras: r.cameras ?? [], total: r.total ?? 0 });
    } catch {
      // shown by the client
    } finally {
      setLoading(false);
    }
  }, [filter, page]);

  useEffect(() => {
    void load();
  }, [load]);

  const admit = async (c: Camera) => {
    try {
      await api.post(`/cameras/${encodeURIComponent(c.id)}/admit`);
      await load();
    } catch {
      // the client shows the localised refusal (incomplete, zone consent)
    }
  };

  const deregister = async (v: { reason: string; replacement_plan?: string }) => {
    if (!deregistering) return;
    try {
      await api.post(`/cameras/${encodeURIComponent(deregistering.id)}/deregister`, v);
      setDeregistering(null);
      await load();
    } catch {
      // shown by the client
    }
  };

  const openHistory = async (c: Camera) => {
    try {
      const r = await api.get<{ changes: CameraChange[] }>(`/cameras/${encodeURIComponent(c.id)}/history`);
      setHistory({ camera: c, changes: r.changes ?? [] });
    } catch {
      // shown by the client
    }
  };

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.cameras')}</Typography.Title>
        <span className="spacer" />
        <Button icon={<ReloadOutlined />} onClick={() => void load()}>{t('common.reload')}</Button>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="camera-new">{t('camera.new')}</Button>
      </div>
      <div className="page-toolbar">
        <UnitSelect units={units} allowClear value={filter.unit_id} onChange={(v) => { setFilter({ ...filter, unit_id: v }); setPage({ ...page, current: 1 }); }}
          style={{ width: 220 }} testid="camera-filter-unit" placeholder={t('camera.filterUnit')} />
        <Select allowClear placeholder={t('camera.filterState')} style={{ width: 160 }} value={filter.state} data-testid="camera-filter-state"
          onChange={(v) => { setFilter({ ...filter, state: v }); setPage({ ...page, current: 1 }); }}
          options={cameraStates.map((s) => ({ value: s, label: tk(`cameraState.${s}`, s) }))} />
        <Input.Search allowClear placeholder={t('camera.filterSearch')} style={{ width: 260 }} data-testid="camera-filter-q"
          onSearch={(q) => { setFilter({ ...filter, q }); setPage({ ...page, current: 1 }); }} />
        <Space>
          <Switch checked={!!filter.incomplete} onChange={(v) => { setFilter({ ...filter, incomplete: v }); setPage({ ...page, current: 1 }); }} data-testid="camera-filter-incomplete" />
          <span>{t('camera.filterIncomplete')}</span>
        </Space>
      </div>
      <Table<Camera>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={data.cameras}
        data-testid="camera-table"
        pagination={{ current: page.current, pageSize: page.size, total: data.total, showSizeChanger: true,
          onChange: (current, size) => setPage({ current, size }) }}
        columns={[
          { title: t('camera.code'), dataIndex: 'code', render: (v: string) => <span className="mono" data-testid="camera-code">{v}</span> },
          { title: t('camera.name'), dataIndex: 'name', render: (v: string) => <span data-testid="camera-name">{v}</span> },
          { title: t('camera.unit'), dataIndex: 'unit_name' },
          { title: t('camera.placeType'), dataIndex: 'place_type', render: (v: string) => placeLabel(tk, v) },
          {
            title: t('camera.state'), dataIndex: 'state',
            render: (s: string, c) => <Tag color={stateColor[s]} data-testid={`camera-state-${c.code}`} data-state={s}>{tk(`cameraState.${s}`, s)}</Tag>,
          },
          {
            title: t('camera.ingest'), key: 'ingest',
            render: (_: unknown, c) => {
              const g = ingest[c.id];
              const s = g?.state ?? 'idle';
              const tip = g && (
                <div data-testid={`camera-ingest-detail-${c.code}`}>
                  <div>{t('camera.transport')}: {tk(`transport.${g.transport ?? 'auto'}`, g.transport ?? 'auto')}</div>
                  {g.last_error && <div>{t('ingest.lastError')}: {g.last_error}</div>}
                  {g.last_event && <div>{t('ingest.lastEvent')}: {g.last_event}</div>}
                  {ingestCounters.filter((k) => (g.counters?.[k] ?? 0) > 0).map((k) => (
                    <div key={k}>{tk(`ingestCounter.${k}`, k)}: {g.counters?.[k]}</div>
                  ))}
                </div>
              );
              return (
                <Tooltip title={tip}>
                  <Tag color={ingestColor[s]} data-testid={`camera-ingest-${c.code}`} data-state={s}>{tk(`ingestState.${s}`, s)}</Tag>
                </Tooltip>
              );
            },
          },
          {
            title: t('camera.completeness'), dataIndex: 'completeness', width: 170,
            render: (v: number, c) => (
              <Tooltip title={(c.missing ?? []).map((m) => tk(`cameraField.${m}`, m)).join(t('common.listSep'))}>
                <Progress percent={v} size="small" status={v >= 100 ? 'success' : 'normal'} data-testid={`camera-completeness-${c.code}`} />
              </Tooltip>
            ),
          },
          { title: t('camera.filingState'), dataIndex: 'filing_state', render: (v: string) => (v ? tk(`filingState.${v}`, v) : '') },
          {
            title: t('common.actions'), key: 'actions',
            render: (_: unknown, c) => (
              <Space size={0} wrap>
                <Button size="small" type="link" onClick={() => setEditing(c)} data-testid={`camera-edit-${c.code}`}>{t('common.edit')}</Button>
                {c.state === 'registered' && (
                  <Button size="small" type="link" onClick={() => void admit(c)} data-testid={`camera-admit-${c.code}`}>{t('camera.admit')}</Button>
                )}
                {c.state !== 'deregistered' && (
                  <Button size="small" type="link" danger onClick={() => { deregForm.resetFields(); setDeregistering(c); }} data-testid={`camera-deregister-${c.code}`}>
                    {t('camera.deregister')}
                  </Button>
                )}
                <Button size="small" type="link" icon={<HistoryOutlined />} onClick={() => void openHistory(c)} data-testid={`camera-history-${c.code}`}>
                  {t('camera.history')}
                </Button>
              </Space>
            ),
          },
        ]}
      />
      <CameraForm camera={editing} units={units} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); void load(); }} />
      <Modal open={deregistering !== null} title={t('camera.deregisterTitle', { name: deregistering?.name ?? '' })} onCancel={() => setDeregistering(null)}
        onOk={() => deregForm.submit()} okText={t('camera.deregister')} cancelText={t('common.cancel')} okButtonProps={{ danger: true, ...tid('camera-deregister-submit') }} forceRender>
        <Form form={deregForm} layout="vertical" onFinish={deregister} name="deregister">
          <Form.Item name="reason" label={t('camera.deregisterReason')} rules={[{ required: true, message: t('form.required') }]}>
            <Input data-testid="camera-deregister-reason" />
          </Form.Item>
          <Form.Item name="replacement_plan" label={t('camera.replacementPlan')} extra={t('camera.replacementPlanHelp')}>
            <Input.TextArea rows={3} data-testid="camera-deregister-plan" />
          </Form.Item>
        </Form>
      </Modal>
      <Drawer open={history !== null} onClose={() => setHistory(null)} size={720} title={t('camera.historyTitle', { name: history?.camera.name ?? '' })}>
        <Table<CameraChange>
          rowKey={(c, i) => `${c.at}-${i}`}
          size="small"
          pagination={false}
          dataSource={history?.changes ?? []}
          data-testid="camera-history-table"
          columns={[
            { title: t('camera.historyAt'), dataIndex: 'at', render: (v: string) => time(v) },
            { title: t('camera.historyWho'), dataIndex: 'actor_name' },
            { title: t('camera.historyAction'), dataIndex: 'action', render: (v: string) => tk(`action.${v}`, v) },
            { title: t('camera.historyField'), dataIndex: 'field', render: (v: string) => (v ? tk(`cameraField.${v}`, v) : '') },
            { title: t('camera.historyOld'), dataIndex: 'old' },
            { title: t('camera.historyNew'), dataIndex: 'new' },
          ]}
        />
      </Drawer>
    </>
  );
}
