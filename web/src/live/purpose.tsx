// The purpose (调用事由) a viewer states before video starts (ACC-3). A user
// with a standing purpose (duty watch) is not asked: the gate applies it.
// The stated purpose lasts for the browser tab (sessionStorage).
import { useCallback, useRef, useState } from 'react';
import { Alert, Input, Modal } from 'antd';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { tid } from '../testid';

const key = (user: string) => `vigil.purpose.${user}`;

export function usePurpose() {
  const { t } = useI18n();
  const { session } = useSession();
  const standing = session.user.standing_purpose ?? '';
  const [purpose, setPurpose] = useState(() => sessionStorage.getItem(key(session.user.id)) ?? '');
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const waiting = useRef<Array<(p: string | null) => void>>([]);
  // ensure stays the same function when the purpose changes, so that
  // players depending on it do not restart.
  const current = useRef(purpose);
  current.current = purpose;

  /** The purpose to send ('' under a standing purpose), asking once if needed; null if the user declines. */
  const ensure = useCallback(async (): Promise<string | null> => {
    if (standing) return '';
    if (current.current) return current.current;
    setText('');
    setOpen(true);
    return new Promise((ok) => waiting.current.push(ok));
  }, [standing]);

  const settle = (p: string | null) => {
    if (p) {
      sessionStorage.setItem(key(session.user.id), p);
      current.current = p;
      setPurpose(p);
    }
    setOpen(false);
    for (const w of waiting.current.splice(0)) w(p);
  };

  const change = () => {
    setText(purpose);
    setOpen(true);
  };

  const modal = (
    <Modal open={open} title={t('purpose.title')} onCancel={() => settle(null)} onOk={() => text.trim() && settle(text.trim())}
      okText={t('purpose.start')} cancelText={t('common.cancel')} okButtonProps={{ disabled: !text.trim(), ...tid('purpose-submit') }} destroyOnHidden>
      <Alert type="info" showIcon title={t('purpose.help')} style={{ marginBottom: 12 }} />
      <Input.TextArea rows={3} value={text} onChange={(e) => setText(e.target.value)} maxLength={200} data-testid="purpose-input" autoFocus />
    </Modal>
  );

  return { purpose: standing || purpose, standing: !!standing, ensure, change, modal };
}
