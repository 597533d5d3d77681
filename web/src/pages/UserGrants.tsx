import { useCallback, useEffect, useState } from 'react';
import { Button, Drawer, Form, Popconfirm, Select, Space, Table, Typography } from 'antd';
import { api } from '../api';
import { useI18n } from '../i18n';
import { UnitSelect } from '../units';
import type { Grant, Role, Unit, User } from '../types';
import { roleName } from '../roles';

/** The roles a user holds, each over a unit subtree: list, add, remove. */
export default function UserGrants({ user, units, onClose }: { user: User | null; units: Unit[]; onClose: () => void }) {
  const { t, tk } = useI18n();
  const [grants, setGrants] = useState<Grant[]>([]);
  const [roles, setRoles] = useState<Role[]>([]);
  const [loading, setLoading] = useState(false);
  const [form] = Form.useForm<{ role_id: string; scope_unit_id: string }>();

  const load = useCallback(async () => {
    if (!user) return;
    setLoading(true);
    try {
      const [g, r] = await Promise.all([
        api.get<{ grants: Grant[] }>(`/users/${encodeURIComponent(user.id)}/grants`),
        api.get<{ roles: Role[] }>('/roles'),
      ]);
      setGrants(g.grants ?? []);
      setRoles(r.roles ?? []);
    } catch {
      // shown by the client
    } finally {
      setLoading(false);
    }
  }, [user]);

  useEffect(() => {
    if (user) {
      form.setFieldsValue({ role_id: undefined, scope_unit_id: user.unit_id });
      void load();
    }
  }, [user, load, form]);

  const grantRole = (g: Grant) => {
    const r = roles.find((x) => x.id === g.role_id);
    return r ? roleName(tk, r) : g.role_name ?? g.role ?? g.role_id ?? '';
  };
  const unitName = (g: Grant) => g.scope_unit_name ?? units.find((u) => u.id === g.scope_unit_id)?.name ?? g.scope_unit_id;

  const add = async (v: { role_id: string; scope_unit_id: string }) => {
    if (!user) return;
    try {
      await api.post(`/users/${encodeURIComponent(user.id)}/grants`, v);
      form.setFieldValue('role_id', undefined);
      await load();
    } catch {
      // shown by the client
    }
  };

  const remove = async (g: Grant) => {
    if (!user || !g.id) return;
    try {
      await api.del(`/users/${encodeURIComponent(user.id)}/grants/${encodeURIComponent(g.id)}`);
      await load();
    } catch {
      // shown by the client
    }
  };

  return (
    <Drawer open={user !== null} onClose={onClose} size={640} title={t('grant.title', { name: user?.name ?? '' })} destroyOnHidden>
      <Table<Grant>
        rowKey={(g) => g.id ?? `${g.role_id}/${g.scope_unit_id}`}
        size="small"
        loading={loading}
        dataSource={grants}
        pagination={false}
        columns={[
          { title: t('grant.role'), key: 'role', render: (_: unknown, g: Grant) => <span data-testid="grant-role-name">{grantRole(g)}</span> },
          { title: t('grant.scope'), key: 'scope', render: (_: unknown, g: Grant) => unitName(g) },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_: unknown, g: Grant) => (
              <Popconfirm title={t('grant.removeConfirm')} okText={t('common.ok')} cancelText={t('common.cancel')} onConfirm={() => remove(g)}>
                <Button size="small" type="link" danger disabled={!g.id}>{t('common.remove')}</Button>
              </Popconfirm>
            ),
          },
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 24 }}>{t('grant.add')}</Typography.Title>
      <Form form={form} layout="vertical" onFinish={add} name="grantAdd">
        <Form.Item name="role_id" label={t('grant.role')} rules={[{ required: true, message: t('form.required') }]}>
          <Select options={roles.map((r) => ({ value: r.id, label: roleName(tk, r) }))} showSearch={{ optionFilterProp: 'label' }} data-testid="grant-role" />
        </Form.Item>
        <Form.Item name="scope_unit_id" label={t('grant.scope')} extra={t('grant.scopeHelp')} rules={[{ required: true, message: t('form.required') }]}>
          <UnitSelect units={units} />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit" data-testid="grant-add">{t('grant.add')}</Button>
        </Space>
      </Form>
    </Drawer>
  );
}
