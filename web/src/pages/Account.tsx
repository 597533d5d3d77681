import { useState } from 'react';
import { Alert, Button, Card, Descriptions, Form, Input, QRCode, Space, Typography } from 'antd';
import { api } from '../api';
import { useI18n } from '../i18n';
import { heldPermissions, useSession } from '../session';
import Tokens from './Tokens';

/** One's own account: change password, enrol a TOTP authenticator. */
export default function Account() {
  const { t } = useI18n();
  const { session, refresh } = useSession();
  const [pwForm] = Form.useForm<{ old_password: string; new_password: string; confirm: string }>();
  const [totpForm] = Form.useForm<{ code: string }>();
  const [offForm] = Form.useForm<{ code: string }>();
  const [pwDone, setPwDone] = useState(false);
  // The server calls the otpauth:// URL "url" (the brief said otpauth_url); accept either.
  const [enrol, setEnrol] = useState<{ secret: string; url?: string; otpauth_url?: string } | null>(null);
  const [totpDone, setTotpDone] = useState(false);
  const u = session.user;

  const changePassword = async (v: { old_password: string; new_password: string }) => {
    try {
      await api.post('/me/password', { old_password: v.old_password, new_password: v.new_password });
      setPwDone(true);
      pwForm.resetFields();
      await refresh();
    } catch {
      // shown by the client
    }
  };

  const startTotp = async () => {
    try {
      setEnrol(await api.post<{ secret: string; url?: string; otpauth_url?: string }>('/me/totp'));
    } catch {
      // shown by the client
    }
  };

  const confirmTotp = async (v: { code: string }) => {
    try {
      await api.post('/me/totp/confirm', v);
      setEnrol(null);
      setTotpDone(true);
      await refresh();
    } catch {
      // shown by the client
    }
  };

  const disableTotp = async (v: { code: string }) => {
    try {
      await api.call('DELETE', '/me/totp', v);
      offForm.resetFields();
      setTotpDone(false);
      await refresh();
    } catch {
      // shown by the client
    }
  };

  const totpOn = (u.totp_enabled || totpDone) && !enrol;

  return (
    <Space direction="vertical" size="large" style={{ width: '100%', maxWidth: 720 }}>
      <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.account')}</Typography.Title>
      {session.must_change_password && !pwDone && (
        <Alert type="warning" showIcon title={t(u.password_expired ? 'account.passwordExpired' : 'account.mustChange')} data-testid="must-change-password" />
      )}
      <Card size="small">
        <Descriptions size="small" column={1}>
          <Descriptions.Item label={t('user.username')}>{u.username}</Descriptions.Item>
          <Descriptions.Item label={t('user.name')}>{u.name}</Descriptions.Item>
          <Descriptions.Item label={t('user.unit')}>{u.unit_name}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Card size="small" title={t('account.changePassword')}>
        {pwDone && <Alert type="success" showIcon title={t('account.passwordChanged')} style={{ marginBottom: 16 }} data-testid="password-changed" />}
        <Form form={pwForm} layout="vertical" onFinish={changePassword} name="password">
          <Form.Item name="old_password" label={t('account.oldPassword')} rules={[{ required: true, message: t('form.required') }]}>
            <Input.Password autoComplete="current-password" data-testid="password-old" />
          </Form.Item>
          <Form.Item name="new_password" label={t('account.newPassword')} rules={[{ required: true, message: t('form.required') }]} extra={t('account.passwordHelp')}>
            <Input.Password autoComplete="new-password" data-testid="password-new" />
          </Form.Item>
          <Form.Item
            name="confirm"
            label={t('account.confirmPassword')}
            dependencies={['new_password']}
            rules={[
              { required: true, message: t('form.required') },
              ({ getFieldValue }) => ({
                validator: (_, v) => (v === getFieldValue('new_password') ? Promise.resolve() : Promise.reject(new Error(t('account.mismatch')))),
              }),
            ]}
          >
            <Input.Password autoComplete="new-password" data-testid="password-confirm" />
          </Form.Item>
          <Button type="primary" htmlType="submit" data-testid="password-submit">{t('account.changePassword')}</Button>
        </Form>
      </Card>
      <Card size="small" title={t('account.totp')}>
        {totpOn && <Alert type="success" showIcon title={t('account.totpOn')} style={{ marginBottom: 16 }} data-testid="totp-on" />}
        {totpOn && (
          <Form form={offForm} layout="inline" onFinish={disableTotp} name="totpOff" style={{ marginBottom: 16 }}>
            <Form.Item name="code" extra={t('account.totpDisableHelp')} rules={[{ required: true, pattern: /^\d{6}$/, message: t('signin.totpInvalid') }]}>
              <Input maxLength={6} inputMode="numeric" placeholder={t('signin.totp')} />
            </Form.Item>
            <Button danger htmlType="submit">{t('account.totpDisable')}</Button>
          </Form>
        )}
        {!enrol ? (
          !totpOn && <Button onClick={() => void startTotp()} data-testid="totp-start">{t('account.totpStart')}</Button>
        ) : (
          <Space align="start" size="large" wrap>
            <div data-testid="totp-qr">
              <QRCode value={enrol.url ?? enrol.otpauth_url ?? ''} />
            </div>
            <div>
              <Typography.Paragraph>{t('account.totpScan')}</Typography.Paragraph>
              <Typography.Paragraph copyable={{ text: enrol.secret }} className="mono">
                <span data-testid="totp-secret">{enrol.secret}</span>
              </Typography.Paragraph>
              <Form form={totpForm} layout="inline" onFinish={confirmTotp} name="totp">
                <Form.Item name="code" rules={[{ required: true, pattern: /^\d{6}$/, message: t('signin.totpInvalid') }]}>
                  <Input maxLength={6} inputMode="numeric" placeholder={t('signin.totp')} data-testid="totp-code" />
                </Form.Item>
                <Button type="primary" htmlType="submit" data-testid="totp-confirm">{t('account.totpConfirm')}</Button>
              </Form>
            </div>
          </Space>
        )}
      </Card>
      {heldPermissions(session).has('tokens.own') && <Tokens />}
    </Space>
  );
}
