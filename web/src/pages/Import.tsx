import { useState } from 'react';
import { Alert, Button, Card, Space, Table, Typography, Upload } from 'antd';
import { DownloadOutlined, InboxOutlined } from '@ant-design/icons';
import { base, upload, withQuery, ApiError } from '../api';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { UnitSelect, useUnits } from '../units';
import type { ImportProblem, ImportReport } from '../registry/types';

const exportFormats = [
  { format: 'csv', label: 'import.exportCsv' },
  { format: 'json', label: 'import.exportJson' },
  { format: 'xlsx', label: 'import.exportXlsx' },
  { format: 'xml', label: 'import.exportXml' },
] as const;

/**
 * Catalogue import and export (REG-4): a file is first checked in a dry run
 * that lists every problem by line and column; the import, all-or-nothing,
 * is offered only when the dry run is clean.
 */
export default function Import() {
  const { t, tk } = useI18n();
  const { session } = useSession();
  const { units } = useUnits(true);
  const [unitId, setUnitId] = useState<string | undefined>(session.user.unit_id);
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (dryRun: boolean) => {
    if (!file || !unitId) return;
    setBusy(true);
    setError(null);
    try {
      const r = await upload<ImportReport>(withQuery('/cameras/import', { unit_id: unitId, dry_run: dryRun ? 'true' : 'false' }), file, { quiet: true });
      setReport(r);
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
      if (!dryRun) setReport(null);
    } finally {
      setBusy(false);
    }
  };

  const problems = report?.problems ?? [];
  const clean = report !== null && report.dry_run && problems.length === 0 && report.rows > 0;
  const exportUnit = unitId ?? session.user.unit_id;

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.import')}</Typography.Title>
      </div>
      <Space direction="vertical" size="large" style={{ width: '100%' }}>
        <Card title={t('import.title')}>
          <Space direction="vertical" style={{ width: '100%' }}>
            <Space wrap>
              <span>{t('import.unit')}</span>
              <UnitSelect units={units} value={unitId} onChange={(v) => { setUnitId(v); setReport(null); }} style={{ width: 280 }} testid="import-unit" />
            </Space>
            <Upload.Dragger
              accept=".csv,.xlsx,.xml"
              maxCount={1}
              beforeUpload={(f) => {
                setFile(f);
                setReport(null);
                setError(null);
                return false;
              }}
              onRemove={() => {
                setFile(null);
                setReport(null);
              }}
              data-testid="import-file"
            >
              <p className="ant-upload-drag-icon"><InboxOutlined /></p>
              <p className="ant-upload-text">{t('import.drop')}</p>
              <p className="ant-upload-hint">{t('import.hint')}</p>
            </Upload.Dragger>
            <Space>
              <Button onClick={() => void run(true)} disabled={!file || !unitId} loading={busy} data-testid="import-dry-run">{t('import.dryRun')}</Button>
              <Button type="primary" onClick={() => void run(false)} disabled={!clean} loading={busy} data-testid="import-commit">{t('import.commit')}</Button>
            </Space>
            {error && <Alert type="error" showIcon title={error} data-testid="import-error" />}
            {report && (
              <Alert
                data-testid="import-summary"
                data-clean={clean ? 'true' : 'false'}
                type={problems.length ? 'warning' : 'success'}
                showIcon
                title={report.dry_run
                  ? t('import.dryRunResult', { rows: report.rows, valid: report.valid, problems: problems.length })
                  : t('import.imported', { imported: report.imported })}
              />
            )}
            {problems.length > 0 && (
              <Table<ImportProblem>
                rowKey={(p, i) => `${p.line}-${p.column}-${i}`}
                size="small"
                dataSource={problems}
                data-testid="import-problems"
                pagination={{ pageSize: 50, showSizeChanger: false }}
                columns={[
                  { title: t('import.line'), dataIndex: 'line', width: 80 },
                  { title: t('import.column'), dataIndex: 'column', width: 160, render: (v: string, p) => `${tk(`cameraField.${v}`, v)}${p.cell ? ` (${p.cell})` : ''}` },
                  { title: t('import.problem'), dataIndex: 'message', render: (v: string, p) => <span title={p.code}>{v}</span> },
                ]}
              />
            )}
          </Space>
        </Card>
        <Card title={t('import.exportTitle')}>
          <Space wrap>
            {exportFormats.map((f) => (
              <Button key={f.format} icon={<DownloadOutlined />} href={base + withQuery('/catalogue', { unit_id: exportUnit, format: f.format })}
                target="_blank" data-testid={`export-${f.format}`}>
                {t(f.label)}
              </Button>
            ))}
          </Space>
        </Card>
      </Space>
    </>
  );
}
