import { useEffect, useState } from 'react';
import { Form, Input, Modal, Typography } from 'antd';
import { api } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../testid';

/**
 * The re-authentication dialog (AUD-2): a sensitive action answered
 * auth.reauth_required; the person enters the password (and the
 * authenticator code, when on) and the action is sent again.
 */
export default function Reauth({ open, totp, onDone }: { open: boolean; totp: boolean; onDone: (ok: boolean) => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<{ password: string; totp?: string }>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (open) form.resetFields();
  }, [open, form]);
  const submit = async () => {
    const v = await form.validateFields();
    setBusy(true);
    try {
      await api.post('/auth/reauth', { password: v.password, totp: v.totp ?? '' });
      onDone(true);
    } catch {
      // shown by the client
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('reauth.title')}
      okText={t('reauth.submit')}
      cancelText={t('common.cancel')}
      onOk={submit}
      onCancel={() => onDone(false)}
      confirmLoading={busy}
      okButtonProps={tid('reauth-submit')}
      destroyOnHidden
    >
      <Typography.Paragraph>{t('reauth.prompt')}</Typography.Paragraph>
      <Form form={form} layout="vertical" name="reauth" onFinish={submit}>
        <Form.Item name="password" label={t('reauth.password')} rules={[{ required: true, message: t('form.required') }]}>
          <Input.Password autoComplete="current-password" data-testid="reauth-password" onPressEnter={submit} />
        </Form.Item>
        {totp && (
          <Form.Item name="totp" label={t('reauth.totp')} rules={[{ required: true, message: t('form.required') }]}>
            <Input inputMode="numeric" maxLength={6} data-testid="reauth-totp" />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}
