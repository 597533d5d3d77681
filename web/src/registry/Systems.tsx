import { useState } from 'react';
import { Button, Col, Drawer, Form, Input, InputNumber, Modal, Row, Select, Space, Table, Tag, Upload } from 'antd';
import { MinusCircleOutlined, PlusOutlined, UploadOutlined } from '@ant-design/icons';
import { api, base, upload, withQuery } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../testid';
import { UnitSelect, useUnits } from '../units';
import { useSystems } from './hooks';
import { attachmentKinds, type Attachment, type System } from './types';

/** Systems (系统, REG-10): list, create, and the archive of attachments. */
export default function Systems() {
  const { t, tk, time } = useI18n();
  const { units } = useUnits(true);
  const systems = useSystems();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const [archive, setArchive] = useState<System | null>(null);
  const [kind, setKind] = useState<string>('design');

  const save = async (v: Record<string, unknown>) => {
    try {
      await api.post('/systems', { ...v, companies: v.companies ?? [], technicians: v.technicians ?? [] });
      setOpen(false);
      await systems.reload();
    } catch {
      // shown by the client
    }
  };

  const openArchive = async (id: string) => {
    try {
      setArchive(await api.get<System>(`/systems/${encodeURIComponent(id)}`));
    } catch {
      // shown by the client
    }
  };

  const attach = async (f: File) => {
    if (!archive) return;
    try {
      await upload(withQuery(`/systems/${encodeURIComponent(archive.id)}/attachments`, { kind, name: f.name }), f);
      await openArchive(archive.id);
    } catch {
      // shown by the client (type or size refused)
    }
  };

  return (
    <>
      <div className="page-toolbar">
        <span className="spacer" />
        <Button type="primary" icon={<PlusOutlined />} onClick={() => { form.resetFields(); setOpen(true); }} data-testid="system-new">{t('system.new')}</Button>
      </div>
      <Table<System>
        rowKey="id" size="middle" loading={systems.loading} dataSource={systems.items} data-testid="system-table"
        columns={[
          { title: t('system.name'), dataIndex: 'name', render: (v: string) => <span data-testid="system-name">{v}</span> },
          { title: t('system.unit'), dataIndex: 'unit_name' },
          { title: t('system.inUseOn'), dataIndex: 'in_use_on' },
          { title: t('system.acceptedOn'), dataIndex: 'accepted_on' },
          { title: t('system.cameraCount'), dataIndex: 'camera_count' },
          { title: t('system.retention'), dataIndex: 'retention_days', render: (d?: number) => (d ? t('common.days', { n: d }) : '') },
          { title: t('common.actions'), key: 'a', render: (_: unknown, s) => <Button size="small" type="link" onClick={() => void openArchive(s.id)} data-testid={`system-archive-${s.name}`}>{t('system.archive')}</Button> },
        ]}
      />
      <Modal open={open} title={t('system.new')} onCancel={() => setOpen(false)} onOk={() => form.submit()} okText={t('common.save')} cancelText={t('common.cancel')}
        okButtonProps={tid('system-submit')} width={720} forceRender>
        <Form form={form} layout="vertical" onFinish={save} name="system">
          <Row gutter={16}>
            <Col span={12}>
              <Form.Item name="name" label={t('system.name')} rules={[{ required: true, message: t('form.required') }]}><Input data-testid="system-form-name" /></Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item name="unit_id" label={t('system.unit')} rules={[{ required: true, message: t('form.required') }]}><UnitSelect units={units} testid="system-form-unit" /></Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="in_use_on" label={t('system.inUseOn')} extra={t('common.dateHelp')}><Input data-testid="system-form-in-use" placeholder="2026-01-31" /></Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="accepted_on" label={t('system.acceptedOn')} extra={t('common.dateHelp')}><Input data-testid="system-form-accepted" placeholder="2026-01-31" /></Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="retention_days" label={t('system.retention')}><InputNumber min={0} style={{ width: '100%' }} data-testid="system-form-retention" /></Form.Item>
            </Col>
          </Row>
          <Form.List name="companies">
            {(fields, { add, remove }) => (
              <>
                {fields.map((f) => (
                  <Space key={f.key} align="baseline" style={{ display: 'flex' }}>
                    <Form.Item name={[f.name, 'name']} rules={[{ required: true, message: t('form.required') }]}><Input placeholder={t('system.companyName')} /></Form.Item>
                    <Form.Item name={[f.name, 'role']}><Input placeholder={t('system.companyRole')} /></Form.Item>
                    <Form.Item name={[f.name, 'licence']}><Input placeholder={t('system.companyLicence')} /></Form.Item>
                    <MinusCircleOutlined onClick={() => remove(f.name)} />
                  </Space>
                ))}
                <Button type="dashed" icon={<PlusOutlined />} onClick={() => add()} style={{ marginBottom: 12 }}>{t('system.addCompany')}</Button>
              </>
            )}
          </Form.List>
          <Form.List name="technicians">
            {(fields, { add, remove }) => (
              <>
                {fields.map((f) => (
                  <Space key={f.key} align="baseline" style={{ display: 'flex' }}>
                    <Form.Item name={[f.name, 'name']} rules={[{ required: true, message: t('form.required') }]}><Input placeholder={t('system.techName')} /></Form.Item>
                    <Form.Item name={[f.name, 'company']}><Input placeholder={t('system.techCompany')} /></Form.Item>
                    <Form.Item name={[f.name, 'certificate']}><Input placeholder={t('system.techCertificate')} /></Form.Item>
                    <MinusCircleOutlined onClick={() => remove(f.name)} />
                  </Space>
                ))}
                <Button type="dashed" icon={<PlusOutlined />} onClick={() => add()}>{t('system.addTechnician')}</Button>
              </>
            )}
          </Form.List>
        </Form>
      </Modal>
      <Drawer open={archive !== null} onClose={() => setArchive(null)} size={720} title={t('system.archiveTitle', { name: archive?.name ?? '' })}>
        <Space style={{ marginBottom: 12 }}>
          <Select value={kind} onChange={setKind} style={{ width: 180 }} options={attachmentKinds.map((k) => ({ value: k, label: tk(`attachmentKind.${k}`, k) }))} data-testid="attachment-kind" />
          <Upload showUploadList={false} beforeUpload={(f) => { void attach(f); return false; }}>
            <Button icon={<UploadOutlined />} data-testid="attachment-upload">{t('system.attach')}</Button>
          </Upload>
        </Space>
        <Table<Attachment>
          rowKey="id" size="small" pagination={false} dataSource={archive?.attachments ?? []} data-testid="attachment-table"
          columns={[
            { title: t('system.attachmentKind'), dataIndex: 'kind', render: (k: string) => <Tag>{tk(`attachmentKind.${k}`, k)}</Tag> },
            { title: t('system.attachmentName'), dataIndex: 'name', render: (n: string, a) => <a href={`${base}/attachments/${encodeURIComponent(a.id)}`}>{n}</a> },
            { title: t('system.attachmentSize'), dataIndex: 'size', render: (n: number) => `${(n / 1024).toFixed(1)} KiB` },
            { title: t('system.attachmentAt'), dataIndex: 'created_at', render: (v: string) => time(v) },
          ]}
        />
      </Drawer>
    </>
  );
}
