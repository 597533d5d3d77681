import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, Checkbox, DatePicker, Form, Input, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { api } from '../api';
import { useI18n } from '../i18n';
import { heldPermissions, useSession } from '../session';

interface Token {
  id: string;
  name: string;
  scopes: string[];
  created_at: string;
  expires_at?: string;
  last_used_at?: string;
  revoked_at?: string;
  secret?: string;
}

/** One's own API tokens: list, create (the secret is shown once), revoke. */
export default function Tokens() {
  const { t, tk, time } = useI18n();
  const { session } = useSession();
  const [tokens, setTokens] = useState<Token[]>([]);
  const [created, setCreated] = useState<Token | null>(null);
  const [form] = Form.useForm<{ name: string; scopes: string[]; expires?: Dayjs | null }>();
  const held = [...heldPermissions(session)].sort();

  const load = useCallback(async () => {
    try {
      const r = await api.get<{ tokens: Token[] }>('/tokens');
      setTokens(r.tokens ?? []);
    } catch {
      // shown by the client
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const create = async (v: { name: string; scopes: string[]; expires?: Dayjs | null }) => {
    try {
      const tok = await api.post<Token>('/tokens', { name: v.name, scopes: v.scopes ?? [], expires_at: v.expires ? v.expires.toISOString() : null });
      setCreated(tok);
      form.resetFields();
      await load();
    } catch {
      // shown by the client
    }
  };

  const revoke = async (tok: Token) => {
    try {
      await api.del(`/tokens/${encodeURIComponent(tok.id)}`);
      await load();
    } catch {
      // shown by the client
    }
  };

  return (
    <Card size="small" title={t('token.title')}>
      <Typography.Paragraph type="secondary">{t('token.help')}</Typography.Paragraph>
      {created?.secret && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          closable={{ onClose: () => setCreated(null) }}
          title={t('token.secret')}
          description={<Typography.Text copyable className="mono">{created.secret}</Typography.Text>}
        />
      )}
      <Table<Token>
        rowKey="id"
        size="small"
        dataSource={tokens}
        pagination={false}
        columns={[
          { title: t('token.name'), dataIndex: 'name' },
          {
            title: t('token.scopes'),
            dataIndex: 'scopes',
            render: (ss: string[]) => (
              <Space size={[4, 4]} wrap>
                {(ss ?? []).map((s) => (
                  <Tag key={s}>{tk(`perm.${s}`, s)}</Tag>
                ))}
              </Space>
            ),
          },
          { title: t('token.created'), dataIndex: 'created_at', render: (v: string) => time(v) },
          { title: t('token.expires'), dataIndex: 'expires_at', render: (v?: string) => (v ? time(v) : t('token.never')) },
          { title: t('token.lastUsed'), dataIndex: 'last_used_at', render: (v?: string) => time(v) },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_: unknown, tok: Token) =>
              tok.revoked_at ? (
                <Tag>{t('token.revoked')}</Tag>
              ) : (
                <Popconfirm title={t('token.revokeConfirm', { name: tok.name })} okText={t('common.ok')} cancelText={t('common.cancel')} onConfirm={() => revoke(tok)}>
                  <Button size="small" type="link" danger>{t('token.revoke')}</Button>
                </Popconfirm>
              ),
          },
        ]}
      />
      <Form form={form} layout="vertical" onFinish={create} name="token" style={{ marginTop: 16 }}>
        <Form.Item name="name" label={t('token.name')} rules={[{ required: true, message: t('form.required') }]}>
          <Input maxLength={64} />
        </Form.Item>
        <Form.Item name="scopes" label={t('token.scopes')} rules={[{ required: true, type: 'array', min: 1, message: t('role.pickOne') }]}>
          <Checkbox.Group options={held.map((p) => ({ value: p, label: tk(`perm.${p}`, p) }))} />
        </Form.Item>
        <Form.Item name="expires" label={t('token.expires')}>
          <DatePicker showTime />
        </Form.Item>
        <Button type="primary" htmlType="submit">{t('token.create')}</Button>
      </Form>
    </Card>
  );
}
