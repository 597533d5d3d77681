import { Button } from 'antd';
import { useI18n } from '../i18n';

/** Switches between 中文 and English; the label names the other language. */
export default function LangSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <Button
      type="text"
      data-testid="lang-switch"
      aria-label={t('lang.switchLabel')}
      onClick={() => setLang(lang === 'zh-CN' ? 'en' : 'zh-CN')}
    >
      {t('lang.other')}
    </Button>
  );
}
