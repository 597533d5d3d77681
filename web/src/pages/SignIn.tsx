import { useState } from 'react';
import { Alert, Button, Card, Divider, Form, Input, Typography } from 'antd';
import { api, setCsrf, ApiError } from '../api';
import { useI18n } from '../i18n';
import LangSwitch from '../components/LangSwitch';
import type { Session } from '../types';

interface Fields {
  username: string;
  password: string;
  totp?: string;
}

/** The sign-in page: password, then a TOTP code when the server asks. */
export default function SignIn({ onSignedIn }: { onSignedIn: (mustChangePassword: boolean) => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<Fields>();
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (v: Fields) => {
    setBusy(true);
    setError('');
    try {
      const body: Fields = { username: v.username, password: v.password };
      if (needTotp && v.totp) body.totp = v.totp;
      const s = await api.post<Session>('/session', body, { quiet: true, noRedirect: true });
      setCsrf(s.csrf);
      onSignedIn(Boolean(s.must_change_password));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'auth.totp_required') {
        setNeedTotp(true);
        if (needTotp) setError(e.message);
      } else {
        setError(e instanceof Error ? e.message : String(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin-page">
      <div className="signin-lang">
        <LangSwitch />
      </div>
      <Card className="signin-card" data-testid="signin-card">
        <Typography.Title level={3} style={{ marginBottom: 0 }}>
          {t('app.name')}
        </Typography.Title>
        <Typography.Paragraph type="secondary">{t('app.fullName')}</Typography.Paragraph>
        <Form form={form} layout="vertical" onFinish={submit} requiredMark={false} name="signin">
          <Form.Item name="username" label={t('signin.username')} rules={[{ required: true, message: t('form.required') }]}>
            <Input autoComplete="username" autoFocus data-testid="signin-username" disabled={needTotp} />
          </Form.Item>
          <Form.Item name="password" label={t('signin.password')} rules={[{ required: true, message: t('form.required') }]}>
            <Input.Password autoComplete="current-password" data-testid="signin-password" disabled={needTotp} />
          </Form.Item>
          {needTotp && (
            <Form.Item
              name="totp"
              label={t('signin.totp')}
              extra={t('signin.totpHelp')}
              rules={[{ required: true, pattern: /^\d{6}$/, message: t('signin.totpInvalid') }]}
            >
              <Input autoComplete="one-time-code" inputMode="numeric" maxLength={6} autoFocus data-testid="signin-totp" />
            </Form.Item>
          )}
          {error && <Alert type="error" title={error} showIcon style={{ marginBottom: 16 }} data-testid="signin-error" />}
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="signin-submit">
            {t('signin.submit')}
          </Button>
          {needTotp && (
            <Button
              type="link"
              block
              onClick={() => {
                setNeedTotp(false);
                setError('');
                form.setFieldValue('totp', undefined);
              }}
            >
              {t('signin.back')}
            </Button>
          )}
        </Form>
        <Divider plain>{t('signin.or')}</Divider>
        <Button block href="/api/v1/oidc/login" data-testid="signin-oidc">
          {t('signin.oidc')}
        </Button>
      </Card>
    </div>
  );
}
