import { useCallback, useEffect, useState } from 'react';
import { Button, DatePicker, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { api, withQuery } from '../api';
import { useI18n } from '../i18n';
import type { AccessRecord, User } from '../types';

interface Filters {
  range?: [Dayjs | null, Dayjs | null] | null;
  user_id?: string;
  action?: string;
}

const pageSize = 100;
const actions = ['live', 'playback', 'snapshot', 'export', 'ptz'];

/** The access registry (调用登记): who viewed or copied which video, when, why, and what was decided. */
export default function Access() {
  const { t, tk, time } = useI18n();
  const [filters, setFilters] = useState<Filters>({});
  const [applied, setApplied] = useState<Filters>({});
  const [records, setRecords] = useState<AccessRecord[]>([]);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [users, setUsers] = useState<User[]>([]);

  useEffect(() => {
    // The user filter lists users when the viewer may list them; otherwise it stays empty.
    api.get<{ users: User[] }>('/users', { quiet: true }).then((r) => setUsers(r.users ?? []), () => setUsers([]));
  }, []);

  const fetchPage = useCallback(
    async (before?: string) => {
      setLoading(true);
      try {
        const r = await api.get<{ records: AccessRecord[] }>(
          withQuery('/access-records', {
            from: applied.range?.[0]?.toISOString(),
            to: applied.range?.[1]?.toISOString(),
            user_id: applied.user_id,
            action: applied.action,
            before,
            limit: pageSize,
          }),
        );
        const got = r.records ?? [];
        setRecords((prev) => (before ? [...prev, ...got] : got));
        setMore(got.length === pageSize);
      } catch {
        // shown by the client
      } finally {
        setLoading(false);
      }
    },
    [applied],
  );

  useEffect(() => {
    void fetchPage();
  }, [fetchPage]);

  const cameraLabel = (c: AccessRecord['cameras'][number]) => (typeof c === 'string' ? c : c.name || c.id);

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.access')}</Typography.Title>
        <span className="spacer" />
        <DatePicker.RangePicker showTime allowEmpty={[true, true]} value={filters.range ?? null} onChange={(v) => setFilters((f) => ({ ...f, range: v }))} />
        <Select
          allowClear
          style={{ width: 180 }}
          placeholder={t('access.user')}
          value={filters.user_id}
          onChange={(v) => setFilters((f) => ({ ...f, user_id: v }))}
          options={users.map((u) => ({ value: u.id, label: `${u.name} (${u.username})` }))}
          showSearch={{ optionFilterProp: 'label' }}
        />
        <Select
          allowClear
          style={{ width: 140 }}
          placeholder={t('access.action')}
          value={filters.action}
          onChange={(v) => setFilters((f) => ({ ...f, action: v }))}
          options={actions.map((a) => ({ value: a, label: tk(`accessAction.${a}`, a) }))}
        />
        <Button onClick={() => setApplied({ ...filters })}>{t('common.search')}</Button>
        <Button icon={<ReloadOutlined />} onClick={() => void fetchPage()}>{t('common.reload')}</Button>
      </div>
      <Table<AccessRecord>
        rowKey="id"
        size="small"
        loading={loading}
        dataSource={records}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('access.time'), dataIndex: 'at', render: (v: string) => time(v) },
          { title: t('access.user'), dataIndex: 'user_name' },
          { title: t('access.unit'), dataIndex: 'unit_name' },
          { title: t('access.action'), dataIndex: 'action', render: (a: string) => tk(`accessAction.${a}`, a) },
          { title: t('access.method'), dataIndex: 'method' },
          {
            title: t('access.cameras'),
            dataIndex: 'cameras',
            render: (cs: AccessRecord['cameras']) => (
              <Space size={[4, 4]} wrap style={{ maxWidth: 260 }}>
                {(cs ?? []).map((c, i) => (
                  <Tag key={i}>{cameraLabel(c)}</Tag>
                ))}
              </Space>
            ),
          },
          {
            title: t('access.range'),
            key: 'range',
            render: (_: unknown, r: AccessRecord) =>
              r.range_start || r.range_end ? t('access.rangeValue', { from: time(r.range_start), to: time(r.range_end) }) : t('access.rangeLive'),
          },
          { title: t('access.purpose'), dataIndex: 'purpose' },
          {
            title: t('access.decision'),
            key: 'decision',
            render: (_: unknown, r: AccessRecord) => (
              <Space size={[4, 4]} wrap>
                <Tag color={r.decision === 'allow' ? 'green' : 'red'}>{tk(`decision.${r.decision}`, r.decision)}</Tag>
                {(r.obligations ?? []).map((o, i) => (
                  <Tooltip key={i} title={(o.cite ?? []).join('; ')}>
                    <Tag color="blue">{tk(`obligation.${o.kind}`, o.kind)}{o.value ? `: ${o.value}` : ''}</Tag>
                  </Tooltip>
                ))}
              </Space>
            ),
          },
        ]}
      />
      <div style={{ marginTop: 16, textAlign: 'center' }}>
        {more && (
          <Button loading={loading} onClick={() => void fetchPage(records[records.length - 1]?.at)}>
            {t('common.older')}
          </Button>
        )}
      </div>
    </>
  );
}
