import { useMemo, useState } from 'react';
import { Button, Form, Input, Modal, Popconfirm, Select, Space, Table, Typography } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { api } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../testid';
import { UnitSelect, unitTree, useUnits, type UnitNode } from '../units';
import { unitKinds, type Unit } from '../types';

interface Fields {
  name: string;
  kind: string;
  parent_id?: string;
  division?: string;
  contact?: string;
  phone?: string;
}

/** Units (单位): the tree, and a form to create or edit one. */
export default function Units() {
  const { t, tk } = useI18n();
  const { units, loading, reload } = useUnits();
  const tree = useMemo(() => unitTree(units), [units]);
  const [editing, setEditing] = useState<Unit | 'new' | null>(null);
  const [form] = Form.useForm<Fields>();
  const [busy, setBusy] = useState(false);

  const open = (u: Unit | 'new', parent?: string) => {
    setEditing(u);
    if (u === 'new') form.setFieldsValue({ name: '', kind: 'building_unit', parent_id: parent ?? tree[0]?.id, division: '', contact: '', phone: '' });
    else form.setFieldsValue({ name: u.name, kind: u.kind, parent_id: u.parent_id ?? undefined, division: u.division, contact: u.contact, phone: u.phone });
  };

  const save = async (v: Fields) => {
    setBusy(true);
    try {
      if (editing === 'new') {
        await api.post('/units', { ...v, parent_id: v.parent_id ?? '' });
      } else if (editing) {
        const body: Record<string, unknown> = { name: v.name, kind: v.kind, division: v.division ?? '', contact: v.contact ?? '', phone: v.phone ?? '' };
        if ((v.parent_id ?? '') !== (editing.parent_id ?? '')) body.parent_id = v.parent_id ?? '';
        await api.patch(`/units/${encodeURIComponent(editing.id)}`, body);
      }
      setEditing(null);
      await reload();
    } catch {
      // the client shows the problem
    } finally {
      setBusy(false);
    }
  };

  const remove = async (u: Unit) => {
    try {
      await api.del(`/units/${encodeURIComponent(u.id)}`);
      await reload();
    } catch {
      // the client shows the problem
    }
  };

  const kindOptions = unitKinds.map((k) => ({ value: k, label: tk(`unitKind.${k}`, k) }));

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.units')}</Typography.Title>
        <span className="spacer" />
        <Button icon={<ReloadOutlined />} onClick={() => void reload()}>{t('common.reload')}</Button>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')} data-testid="unit-new">
          {t('unit.new')}
        </Button>
      </div>
      <Table<UnitNode>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={tree}
        pagination={false}
        expandable={{ defaultExpandAllRows: true }}
        key={units.length /* re-expand all after a reload */}
        data-testid="unit-table"
        columns={[
          { title: t('unit.name'), dataIndex: 'name', render: (v: string) => <span data-testid="unit-name">{v}</span> },
          { title: t('unit.kind'), dataIndex: 'kind', render: (k: string) => tk(`unitKind.${k}`, k) },
          { title: t('unit.division'), dataIndex: 'division' },
          { title: t('unit.contact'), dataIndex: 'contact' },
          { title: t('unit.phone'), dataIndex: 'phone' },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_: unknown, u: UnitNode) => (
              <Space size="small">
                <Button size="small" type="link" onClick={() => open(u)}>{t('common.edit')}</Button>
                <Button size="small" type="link" onClick={() => open('new', u.id)}>{t('unit.addChild')}</Button>
                {!u.children?.length && (
                  <Popconfirm
                    title={t('unit.deleteConfirm', { name: u.name })}
                    okText={t('common.ok')}
                    cancelText={t('common.cancel')}
                    onConfirm={() => remove(u)}
                  >
                    <Button size="small" type="link" danger>{t('common.delete')}</Button>
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('unit.new') : t('unit.edit')}
        onCancel={() => setEditing(null)}
        onOk={() => form.submit()}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        confirmLoading={busy}
        okButtonProps={tid('unit-submit')}
        forceRender
      >
        <Form form={form} layout="vertical" onFinish={save} name="unit">
          <Form.Item name="name" label={t('unit.name')} rules={[{ required: true, message: t('form.required') }]}>
            <Input data-testid="unit-form-name" />
          </Form.Item>
          <Form.Item name="kind" label={t('unit.kind')} rules={[{ required: true, message: t('form.required') }]}>
            <Select options={kindOptions} data-testid="unit-form-kind" />
          </Form.Item>
          <Form.Item name="parent_id" label={t('unit.parent')}>
            <UnitSelect units={units} allowClear exclude={editing !== 'new' ? editing?.id : undefined} testid="unit-form-parent" />
          </Form.Item>
          <Form.Item name="division" label={t('unit.division')} extra={t('unit.divisionHelp')}>
            <Input data-testid="unit-form-division" maxLength={12} />
          </Form.Item>
          <Form.Item name="contact" label={t('unit.contact')}>
            <Input data-testid="unit-form-contact" />
          </Form.Item>
          <Form.Item name="phone" label={t('unit.phone')}>
            <Input data-testid="unit-form-phone" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
