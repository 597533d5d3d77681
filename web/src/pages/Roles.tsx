import { useCallback, useEffect, useMemo, useState } from 'react';
import { Button, Checkbox, Form, Input, Modal, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../testid';
import { permissions as knownPermissions, type Role } from '../types';
import { roleDescription, roleName } from '../roles';

interface Fields {
  name: string;
  description?: string;
  permissions: string[];
}

/** Roles (角色): built-in and custom, each a set of permissions. */
export default function Roles() {
  const { t, tk } = useI18n();
  const [roles, setRoles] = useState<Role[]>([]);
  const [serverPermissions, setServerPermissions] = useState<string[]>([]);
  const [loading, setLoading] = useState(true);
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<Fields>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const r = await api.get<{ roles: Role[]; permissions?: string[] }>('/roles');
      setRoles(r.roles ?? []);
      setServerPermissions(r.permissions ?? []);
    } catch {
      // shown by the client
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  // Every permission the server knows of, including any the console does not.
  const allPermissions = useMemo(() => {
    const s = new Set<string>(serverPermissions.length ? serverPermissions : knownPermissions);
    for (const r of roles) for (const p of r.permissions ?? []) s.add(p);
    return [...s];
  }, [roles, serverPermissions]);

  const permLabel = (p: string) => tk(`perm.${p}`, p);

  const save = async (v: Fields) => {
    setBusy(true);
    try {
      const body = { name: v.name, description: v.description ?? '', permissions: v.permissions ?? [] };
      if (editing === 'new') await api.post('/roles', body);
      else if (editing) await api.patch(`/roles/${encodeURIComponent(editing.id)}`, body);
      setEditing(null);
      await load();
    } catch {
      // shown by the client
    } finally {
      setBusy(false);
    }
  };

  const remove = async (r: Role) => {
    try {
      await api.del(`/roles/${encodeURIComponent(r.id)}`);
      await load();
    } catch {
      // shown by the client
    }
  };

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.roles')}</Typography.Title>
        <span className="spacer" />
        <Button
          type="primary"
          icon={<PlusOutlined />}
          data-testid="role-new"
          onClick={() => {
            form.setFieldsValue({ name: '', description: '', permissions: [] });
            setEditing('new');
          }}
        >
          {t('role.new')}
        </Button>
      </div>
      <Table<Role>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={roles}
        pagination={false}
        columns={[
          {
            title: t('role.name'),
            dataIndex: 'name',
            width: 200,
            render: (v: string, r: Role) => (
              <Space>
                <span data-testid="role-name" title={v}>{roleName(tk, r)}</span>
                {r.builtin && <Tag>{t('role.builtin')}</Tag>}
              </Space>
            ),
          },
          { title: t('role.description'), key: 'description', render: (_: unknown, r: Role) => roleDescription(tk, r) },
          {
            title: t('role.permissions'),
            dataIndex: 'permissions',
            render: (ps: string[]) => (
              <Space size={[4, 4]} wrap>
                {(ps ?? []).map((p) => (
                  <Tag key={p} title={p}>{permLabel(p)}</Tag>
                ))}
              </Space>
            ),
          },
          {
            title: t('common.actions'),
            key: 'actions',
            width: 140,
            render: (_: unknown, r: Role) =>
              r.builtin ? null : (
                <Space size={0}>
                  <Button
                    size="small"
                    type="link"
                    onClick={() => {
                      form.setFieldsValue({ name: r.name, description: r.description, permissions: r.permissions ?? [] });
                      setEditing(r);
                    }}
                  >
                    {t('common.edit')}
                  </Button>
                  <Popconfirm title={t('role.deleteConfirm', { name: r.name })} okText={t('common.ok')} cancelText={t('common.cancel')} onConfirm={() => remove(r)}>
                    <Button size="small" type="link" danger>{t('common.delete')}</Button>
                  </Popconfirm>
                </Space>
              ),
          },
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('role.new') : t('role.edit')}
        onCancel={() => setEditing(null)}
        onOk={() => form.submit()}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        confirmLoading={busy}
        okButtonProps={tid('role-submit')}
        width={640}
        forceRender
      >
        <Form form={form} layout="vertical" onFinish={save} name="role">
          <Form.Item name="name" label={t('role.name')} rules={[{ required: true, message: t('form.required') }]}>
            <Input data-testid="role-form-name" />
          </Form.Item>
          <Form.Item name="description" label={t('role.description')}>
            <Input.TextArea rows={2} />
          </Form.Item>
          <Form.Item name="permissions" label={t('role.permissions')} rules={[{ required: true, type: 'array', min: 1, message: t('role.pickOne') }]}>
            <Checkbox.Group style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 8 }}>
              {allPermissions.map((p) => (
                <Checkbox key={p} value={p}>
                  {permLabel(p)} <span className="mono" style={{ opacity: 0.6 }}>{p}</span>
                </Checkbox>
              ))}
            </Checkbox.Group>
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
