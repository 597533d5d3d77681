import { useCallback, useEffect, useState } from 'react';
import { Button, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { api, withQuery } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../testid';
import { UnitSelect, useUnits } from '../units';
import type { User } from '../types';
import UserGrants from './UserGrants';

interface Filters {
  unit_id?: string;
  status?: string;
  q?: string;
}

interface CreateFields {
  username: string;
  name: string;
  unit_id: string;
  post?: string;
  phone?: string;
  id_number?: string;
  password: string;
  standing_purpose?: string;
}

type EditFields = Omit<CreateFields, 'username' | 'password' | 'id_number'>;

const statuses = ['active', 'disabled'];

/** Users (用户): filters, table, create, edit, disable/enable, reset password, grants. */
export default function Users() {
  const { t, tk } = useI18n();
  const { units } = useUnits();
  const [filters, setFilters] = useState<Filters>({});
  const [users, setUsers] = useState<User[]>([]);
  const [loading, setLoading] = useState(true);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<User | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const [granting, setGranting] = useState<User | null>(null);
  const [busy, setBusy] = useState(false);
  const [createForm] = Form.useForm<CreateFields>();
  const [editForm] = Form.useForm<EditFields>();
  const [resetForm] = Form.useForm<{ new_password: string }>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const r = await api.get<{ users: User[] }>(withQuery('/users', { ...filters }));
      setUsers(r.users ?? []);
    } catch {
      // shown by the client
    } finally {
      setLoading(false);
    }
  }, [filters]);

  useEffect(() => {
    void load();
  }, [load]);

  const run = async (f: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    try {
      await f();
      after?.();
      await load();
    } catch {
      // shown by the client
    } finally {
      setBusy(false);
    }
  };

  const required = [{ required: true, message: t('form.required') }];
  const statusLabel = (s?: string) => (s ? tk(`userStatus.${s}`, s) : '');

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.users')}</Typography.Title>
        <span className="spacer" />
        <UnitSelect
          units={units}
          allowClear
          value={filters.unit_id}
          onChange={(v) => setFilters((f) => ({ ...f, unit_id: v }))}
          placeholder={t('user.filterUnit')}
          style={{ width: 220 }}
        />
        <Select
          allowClear
          style={{ width: 140 }}
          placeholder={t('user.filterStatus')}
          value={filters.status}
          onChange={(v) => setFilters((f) => ({ ...f, status: v }))}
          options={statuses.map((s) => ({ value: s, label: statusLabel(s) }))}
        />
        <Input.Search
          allowClear
          style={{ width: 220 }}
          placeholder={t('user.search')}
          onSearch={(q) => setFilters((f) => ({ ...f, q }))}
          data-testid="user-search"
        />
        <Button icon={<ReloadOutlined />} onClick={() => void load()}>{t('common.reload')}</Button>
        <Button
          type="primary"
          icon={<PlusOutlined />}
          data-testid="user-new"
          onClick={() => {
            createForm.resetFields();
            createForm.setFieldsValue({ unit_id: filters.unit_id });
            setCreating(true);
          }}
        >
          {t('user.new')}
        </Button>
      </div>
      <Table<User>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={users}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('user.username'), dataIndex: 'username', render: (v: string) => <span data-testid="user-username">{v}</span> },
          { title: t('user.name'), dataIndex: 'name' },
          { title: t('user.unit'), dataIndex: 'unit_name' },
          { title: t('user.post'), dataIndex: 'post' },
          { title: t('user.phone'), dataIndex: 'phone' },
          { title: t('user.idNumber'), dataIndex: 'id_number_masked', render: (v?: string) => <span className="mono">{v}</span> },
          {
            title: t('user.status'),
            dataIndex: 'status',
            render: (s?: string) => <Tag color={s === 'active' ? 'green' : s === 'disabled' ? 'default' : 'orange'}>{statusLabel(s)}</Tag>,
          },
          { title: t('user.totp'), dataIndex: 'totp_enabled', render: (v?: boolean) => (v ? t('common.yes') : t('common.no')) },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_: unknown, u: User) => (
              <Space size={0} wrap>
                <Button
                  size="small"
                  type="link"
                  onClick={() => {
                    editForm.setFieldsValue({ name: u.name, unit_id: u.unit_id, post: u.post, phone: u.phone, standing_purpose: u.standing_purpose });
                    setEditing(u);
                  }}
                >
                  {t('common.edit')}
                </Button>
                <Button size="small" type="link" onClick={() => setGranting(u)} data-testid={`user-grants-${u.username}`}>
                  {t('user.grants')}
                </Button>
                <Button
                  size="small"
                  type="link"
                  onClick={() => {
                    resetForm.resetFields();
                    setResetting(u);
                  }}
                >
                  {t('user.resetPassword')}
                </Button>
                {u.totp_enabled && (
                  <Popconfirm
                    title={t('user.resetTotpConfirm', { name: u.name })}
                    okText={t('common.ok')}
                    cancelText={t('common.cancel')}
                    onConfirm={() => run(() => api.post(`/users/${encodeURIComponent(u.id)}/reset-totp`))}
                  >
                    <Button size="small" type="link">{t('user.resetTotp')}</Button>
                  </Popconfirm>
                )}
                {u.status === 'disabled' ? (
                  <Button size="small" type="link" onClick={() => void run(() => api.post(`/users/${encodeURIComponent(u.id)}/enable`))}>
                    {t('user.enable')}
                  </Button>
                ) : (
                  <Popconfirm
                    title={t('user.disableConfirm', { name: u.name })}
                    okText={t('common.ok')}
                    cancelText={t('common.cancel')}
                    onConfirm={() => run(() => api.post(`/users/${encodeURIComponent(u.id)}/disable`))}
                  >
                    <Button size="small" type="link" danger>{t('user.disable')}</Button>
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]}
      />

      <Modal
        open={creating}
        title={t('user.new')}
        onCancel={() => setCreating(false)}
        onOk={() => createForm.submit()}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        confirmLoading={busy}
        okButtonProps={tid('user-submit')}
        forceRender
      >
        <Form
          form={createForm}
          layout="vertical"
          name="userCreate"
          onFinish={(v) => run(() => api.post('/users', { ...v, post: v.post ?? '', phone: v.phone ?? '', id_number: v.id_number ?? '', standing_purpose: v.standing_purpose ?? '' }), () => setCreating(false))}
        >
          <Form.Item name="username" label={t('user.username')} rules={required}>
            <Input autoComplete="off" data-testid="user-form-username" />
          </Form.Item>
          <Form.Item name="name" label={t('user.name')} rules={required}>
            <Input data-testid="user-form-name" />
          </Form.Item>
          <Form.Item name="unit_id" label={t('user.unit')} rules={required}>
            <UnitSelect units={units} testid="user-form-unit" />
          </Form.Item>
          <Form.Item name="post" label={t('user.post')}>
            <Input data-testid="user-form-post" />
          </Form.Item>
          <Form.Item name="phone" label={t('user.phone')}>
            <Input data-testid="user-form-phone" />
          </Form.Item>
          <Form.Item name="id_number" label={t('user.idNumber')}>
            <Input data-testid="user-form-id-number" maxLength={18} />
          </Form.Item>
          <Form.Item name="password" label={t('user.initialPassword')} rules={required} extra={t('user.initialPasswordHelp')}>
            <Input.Password autoComplete="new-password" data-testid="user-form-password" />
          </Form.Item>
          <Form.Item name="standing_purpose" label={t('user.standingPurpose')} extra={t('user.standingPurposeHelp')}>
            <Input.TextArea rows={2} data-testid="user-form-purpose" />
          </Form.Item>
        </Form>
      </Modal>

      <Modal
        open={editing !== null}
        title={t('user.edit')}
        onCancel={() => setEditing(null)}
        onOk={() => editForm.submit()}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        confirmLoading={busy}
        forceRender
      >
        <Form
          form={editForm}
          layout="vertical"
          name="userEdit"
          onFinish={(v) =>
            editing &&
            run(() => api.patch(`/users/${encodeURIComponent(editing.id)}`, { ...v, post: v.post ?? '', phone: v.phone ?? '', standing_purpose: v.standing_purpose ?? '' }), () => setEditing(null))
          }
        >
          <Form.Item label={t('user.username')}>
            <Input value={editing?.username} disabled />
          </Form.Item>
          <Form.Item name="name" label={t('user.name')} rules={required}>
            <Input />
          </Form.Item>
          <Form.Item name="unit_id" label={t('user.unit')} rules={required}>
            <UnitSelect units={units} />
          </Form.Item>
          <Form.Item name="post" label={t('user.post')}>
            <Input />
          </Form.Item>
          <Form.Item name="phone" label={t('user.phone')}>
            <Input />
          </Form.Item>
          <Form.Item name="standing_purpose" label={t('user.standingPurpose')}>
            <Input.TextArea rows={2} />
          </Form.Item>
        </Form>
      </Modal>

      <Modal
        open={resetting !== null}
        title={t('user.resetPasswordOf', { name: resetting?.name ?? '' })}
        onCancel={() => setResetting(null)}
        onOk={() => resetForm.submit()}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        confirmLoading={busy}
        forceRender
      >
        <Form
          form={resetForm}
          layout="vertical"
          name="userReset"
          onFinish={(v) => resetting && run(() => api.post(`/users/${encodeURIComponent(resetting.id)}/reset-password`, v), () => setResetting(null))}
        >
          <Form.Item name="new_password" label={t('user.newPassword')} rules={required} extra={t('user.initialPasswordHelp')}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>

      <UserGrants user={granting} units={units} onClose={() => setGranting(null)} />
    </>
  );
}
