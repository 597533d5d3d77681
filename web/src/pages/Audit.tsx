import { useCallback, useEffect, useState } from 'react';
import { Alert, AutoComplete, Button, DatePicker, Input, Select, Table, Tag, Tooltip, Typography } from 'antd';
import { ReloadOutlined, SafetyOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { api, withQuery } from '../api';
import { useI18n } from '../i18n';
import type { AuditEntry, VerifyReport } from '../types';

interface Filters {
  range?: [Dayjs | null, Dayjs | null] | null;
  actor?: string;
  action?: string;
  outcome?: string;
}

const pageSize = 50;

/** Actions the console has labels for; others show as sent. */
export const knownActions = [
  'session.signin', 'session.signout', 'session.signin_failed', 'user.lock', 'user.oidc_link',
  'unit.create', 'unit.update', 'unit.delete', 'user.create', 'user.update', 'user.disable', 'user.enable',
  'user.password_reset', 'user.password_change', 'role.create', 'role.update', 'role.delete', 'role.grant', 'role.revoke',
  'token.create', 'token.revoke', 'totp.enrol', 'totp.disable', 'audit.verify', 'audit.prune', 'gate.decide', 'gate.end',
];

/** Renders details as "key=value" pairs. */
function detailsText(d?: Record<string, unknown>): string {
  if (!d) return '';
  return Object.entries(d)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** The audit log (审计日志): newest first, filters, paging back, chain verification. */
export default function Audit() {
  const { t, tk, time } = useI18n();
  const [filters, setFilters] = useState<Filters>({});
  const [applied, setApplied] = useState<Filters>({});
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [nextBefore, setNextBefore] = useState<number | undefined>();
  const [loading, setLoading] = useState(true);
  const [verifying, setVerifying] = useState(false);
  const [report, setReport] = useState<VerifyReport | null>(null);

  const fetchPage = useCallback(
    async (before?: number) => {
      setLoading(true);
      try {
        const r = await api.get<{ entries: AuditEntry[]; next_before?: number }>(
          withQuery('/audit', {
            from: applied.range?.[0]?.toISOString(),
            to: applied.range?.[1]?.toISOString(),
            actor: applied.actor,
            action: applied.action,
            outcome: applied.outcome,
            before,
            limit: pageSize,
          }),
        );
        setEntries((prev) => (before ? [...prev, ...(r.entries ?? [])] : r.entries ?? []));
        setNextBefore(r.next_before || undefined);
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

  const verify = async () => {
    setVerifying(true);
    setReport(null);
    try {
      setReport(await api.post<VerifyReport>('/audit/verify'));
      void fetchPage();
    } catch {
      // shown by the client
    } finally {
      setVerifying(false);
    }
  };

  const actionLabel = (a: string) => tk(`action.${a}`, a);
  const outcomeLabel = (o: string) => tk(`outcome.${o}`, o);

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.audit')}</Typography.Title>
        <span className="spacer" />
        <Button type="primary" icon={<SafetyOutlined />} loading={verifying} onClick={() => void verify()} data-testid="audit-verify">
          {t('audit.verify')}
        </Button>
      </div>
      {report && (
        <Alert
          style={{ marginBottom: 16 }}
          showIcon
          closable={{ onClose: () => setReport(null) }}
          data-testid="audit-verify-result"
          type={report.ok ? 'success' : 'error'}
          title={
            report.ok
              ? t('audit.verifyOk', { checked: report.checked, head: report.head_seq ?? '' })
              : t('audit.verifyBad', { seq: report.problem?.seq ?? '', kind: report.problem ? tk(`verifyKind.${report.problem.kind}`, report.problem.kind) : '', detail: report.problem?.detail ?? '' })
          }
          description={report.ok && report.checkpoint ? t('audit.verifyCheckpoint', { seq: report.checkpoint }) : undefined}
        />
      )}
      <div className="page-toolbar">
        <DatePicker.RangePicker
          showTime
          allowEmpty={[true, true]}
          value={filters.range ?? null}
          onChange={(v) => setFilters((f) => ({ ...f, range: v }))}
        />
        <Input
          allowClear
          style={{ width: 160 }}
          placeholder={t('audit.actor')}
          value={filters.actor}
          onChange={(e) => setFilters((f) => ({ ...f, actor: e.target.value }))}
        />
        <AutoComplete
          allowClear
          style={{ width: 200 }}
          placeholder={t('audit.action')}
          value={filters.action}
          onChange={(v) => setFilters((f) => ({ ...f, action: v }))}
          options={knownActions.map((a) => ({ value: a, label: `${actionLabel(a)} (${a})` }))}
          showSearch={{ filterOption: (input, o) => String(o?.label ?? '').toLowerCase().includes(input.toLowerCase()) }}
        />
        <Select
          allowClear
          style={{ width: 120 }}
          placeholder={t('audit.outcome')}
          value={filters.outcome}
          onChange={(v) => setFilters((f) => ({ ...f, outcome: v }))}
          options={['ok', 'denied', 'failed'].map((o) => ({ value: o, label: outcomeLabel(o) }))}
        />
        <Button onClick={() => setApplied({ ...filters })} type="default" data-testid="audit-search">{t('common.search')}</Button>
        <Button icon={<ReloadOutlined />} onClick={() => void fetchPage()}>{t('common.reload')}</Button>
      </div>
      <Table<AuditEntry>
        rowKey="seq"
        size="small"
        loading={loading}
        dataSource={entries}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('audit.seq'), dataIndex: 'seq', width: 70 },
          { title: t('audit.time'), dataIndex: 'at', render: (v: string) => time(v) },
          { title: t('audit.actor'), key: 'actor', render: (_: unknown, e: AuditEntry) => (e.actor?.id === 'system' ? t('audit.system') : e.actor?.name) },
          { title: t('audit.unit'), key: 'unit', render: (_: unknown, e: AuditEntry) => e.actor?.unit },
          {
            title: t('audit.action'),
            dataIndex: 'action',
            render: (a: string) => (
              <Tooltip title={a}>
                <span data-testid="audit-action" data-action={a}>{actionLabel(a)}</span>
              </Tooltip>
            ),
          },
          {
            title: t('audit.object'),
            key: 'object',
            render: (_: unknown, e: AuditEntry) => (
              <div style={{ maxWidth: 420 }}>
                <div className="mono">{e.object}</div>
                {e.details && <div className="mono" style={{ opacity: 0.7, whiteSpace: 'normal' }} data-testid="audit-details">{detailsText(e.details)}</div>}
              </div>
            ),
          },
          {
            title: t('audit.outcome'),
            dataIndex: 'outcome',
            render: (o: string) => <Tag color={o === 'ok' ? 'green' : o === 'denied' ? 'orange' : 'red'}>{outcomeLabel(o)}</Tag>,
          },
          { title: t('audit.remote'), key: 'remote', render: (_: unknown, e: AuditEntry) => e.actor?.remote },
        ]}
      />
      <div style={{ marginTop: 16, textAlign: 'center' }}>
        {nextBefore ? (
          <Button onClick={() => void fetchPage(nextBefore)} loading={loading} data-testid="audit-older">
            {t('common.older')}
          </Button>
        ) : (
          !loading && entries.length > 0 && <Typography.Text type="secondary">{t('common.end')}</Typography.Text>
        )}
      </div>
    </>
  );
}
