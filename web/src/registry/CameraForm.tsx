import { useEffect, useState } from 'react';
import { Alert, Button, Col, Divider, Drawer, Form, Input, InputNumber, Row, Select, Space, Switch, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api';
import { useI18n } from '../i18n';
import { UnitSelect } from '../units';
import type { Unit } from '../types';
import { placeOptions, useProhibitedPlaces, useSites, useSystems } from './hooks';
import { cameraTypes, fundings, recordingModes, transports, type Camera, type CameraFile } from './types';

interface Fields extends Omit<CameraFile, 'extended'> {
  extended?: Array<{ key: string; value: string }>;
  source_url?: string;
  transport?: string;
}

const codeRe = /^\d{20}$/;

// The attributes PUT/POST /cameras take (CameraInput); the server refuses unknown fields.
const inputKeys = ['code', 'unit_id', 'name', 'vendor', 'model', 'firmware', 'type', 'lat', 'lon', 'address', 'division', 'height', 'fov', 'range',
  'place_type', 'site_id', 'system_id', 'building_unit', 'operating_unit', 'contact_name', 'contact_phone', 'funding', 'commissioned_on',
  'accepted_on', 'public', 'signage', 'recording_mode'] as const;

/**
 * The camera file form (一机一档, REG-1): basic, location, management and
 * extended attributes. Registers a new file or replaces an existing one; a
 * refusal (a prohibited place, REG-6; a used code) is shown with the
 * server's localised detail.
 */
export default function CameraForm(props: { camera: Camera | 'new' | null; units: Unit[]; onClose: () => void; onSaved: () => void }) {
  const i = useI18n();
  const { t, tk } = i;
  const [form] = Form.useForm<Fields>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const prohibited = useProhibitedPlaces();
  const sites = useSites();
  const systems = useSystems();
  const { camera } = props;

  useEffect(() => {
    setError(null);
    if (camera === null) return;
    form.resetFields();
    if (camera === 'new') {
      form.setFieldsValue({ recording_mode: 'continuous', transport: 'auto', public: false, signage: false, extended: [] });
      return;
    }
    const { extended, ...rest } = camera;
    form.setFieldsValue({ ...rest, azimuth: camera.azimuth ?? undefined, extended: Object.entries(extended ?? {}).map(([key, value]) => ({ key, value })) });
  }, [camera, form]);

  const save = async (v: Fields) => {
    setBusy(true);
    setError(null);
    const extended: Record<string, string> = {};
    for (const kv of v.extended ?? []) if (kv?.key) extended[kv.key] = kv.value ?? '';
    const body: Record<string, unknown> = { extended, azimuth: v.azimuth ?? null };
    for (const k of inputKeys) if (v[k] !== undefined && v[k] !== null) body[k] = v[k];
    if (v.source_url) body.source_url = v.source_url;
    if (v.transport) body.transport = v.transport;
    try {
      if (camera === 'new') await api.post('/cameras', body, { quiet: true });
      else if (camera) await api.call('PUT', `/cameras/${encodeURIComponent(camera.id)}`, body, { quiet: true });
      props.onSaved();
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const num = (name: keyof Fields, label: string, testid: string, extra?: { min?: number; max?: number; step?: number }) => (
    <Form.Item name={name} label={label}>
      <InputNumber style={{ width: '100%' }} data-testid={testid} {...extra} />
    </Form.Item>
  );
  const text = (name: keyof Fields, label: string, testid: string) => (
    <Form.Item name={name} label={label}>
      <Input data-testid={testid} />
    </Form.Item>
  );

  return (
    <Drawer
      open={camera !== null}
      onClose={props.onClose}
      size={760}
      title={camera === 'new' ? t('camera.new') : t('camera.edit')}
      forceRender
      extra={
        <Space>
          <Button onClick={props.onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={busy} onClick={() => form.submit()} data-testid="camera-submit">{t('common.save')}</Button>
        </Space>
      }
    >
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="camera-form-error" />}
      <Form form={form} layout="vertical" onFinish={save} name="camera">
        <Divider titlePlacement="start">{t('camera.sectionBasic')}</Divider>
        <Row gutter={16}>
          <Col span={12}>
            <Form.Item name="code" label={t('camera.code')} extra={t('camera.codeHelp')}
              rules={[{ required: true, message: t('form.required') }, { pattern: codeRe, message: t('camera.codeInvalid') }]}>
              <Input maxLength={20} data-testid="camera-form-code" disabled={camera !== 'new' && camera !== null} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="name" label={t('camera.name')} rules={[{ required: true, message: t('form.required') }]}>
              <Input data-testid="camera-form-name" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="unit_id" label={t('camera.unit')} rules={[{ required: true, message: t('form.required') }]}>
              <UnitSelect units={props.units} testid="camera-form-unit" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="type" label={t('camera.type')}>
              <Select allowClear data-testid="camera-form-type" options={cameraTypes.map((c) => ({ value: c, label: tk(`cameraType.${c}`, c) }))} />
            </Form.Item>
          </Col>
          <Col span={8}>{text('vendor', t('camera.vendor'), 'camera-form-vendor')}</Col>
          <Col span={8}>{text('model', t('camera.model'), 'camera-form-model')}</Col>
          <Col span={8}>{text('firmware', t('camera.firmware'), 'camera-form-firmware')}</Col>
          <Col span={16}>
            <Form.Item name="source_url" label={t('camera.sourceUrl')} extra={t('camera.sourceUrlHelp')}>
              <Input.Password autoComplete="off" data-testid="camera-form-source" />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="recording_mode" label={t('camera.recordingMode')}>
              <Select options={recordingModes.map((m) => ({ value: m, label: tk(`recordingMode.${m}`, m) }))} data-testid="camera-form-recording" />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="transport" label={t('camera.transport')} extra={t('camera.transportHelp')}>
              <Select options={transports.map((m) => ({ value: m, label: tk(`transport.${m}`, m) }))} data-testid="camera-form-transport" />
            </Form.Item>
          </Col>
        </Row>
        <Divider titlePlacement="start">{t('camera.sectionLocation')}</Divider>
        <Row gutter={16}>
          <Col span={8}>{num('lat', t('camera.lat'), 'camera-form-lat', { min: -90, max: 90, step: 0.000001 })}</Col>
          <Col span={8}>{num('lon', t('camera.lon'), 'camera-form-lon', { min: -180, max: 180, step: 0.000001 })}</Col>
          <Col span={8}>
            <Form.Item label={t('camera.gcj02')} extra={t('camera.gcj02Help')}>
              <Typography.Text className="mono" data-testid="camera-form-gcj02">
                {camera && camera !== 'new' && camera.gcj02 ? `${camera.gcj02.lat.toFixed(6)}, ${camera.gcj02.lon.toFixed(6)}` : '—'}
              </Typography.Text>
            </Form.Item>
          </Col>
          <Col span={16}>{text('address', t('camera.address'), 'camera-form-address')}</Col>
          <Col span={8}>{text('division', t('camera.division'), 'camera-form-division')}</Col>
          <Col span={6}>{num('height', t('camera.height'), 'camera-form-height', { min: 0 })}</Col>
          <Col span={6}>{num('azimuth', t('camera.azimuth'), 'camera-form-azimuth', { min: 0, max: 360 })}</Col>
          <Col span={6}>{num('fov', t('camera.fov'), 'camera-form-fov', { min: 0, max: 360 })}</Col>
          <Col span={6}>{num('range', t('camera.range'), 'camera-form-range', { min: 0 })}</Col>
          <Col span={12}>
            <Form.Item name="place_type" label={t('camera.placeType')}>
              <Select allowClear showSearch={{ optionFilterProp: 'label' }} options={placeOptions(i, prohibited)} data-testid="camera-form-place" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="site_id" label={t('camera.site')}>
              <Select allowClear options={sites.items.map((s) => ({ value: s.id, label: s.name }))} data-testid="camera-form-site" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="public" label={t('camera.public')} valuePropName="checked">
              <Switch data-testid="camera-form-public" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="signage" label={t('camera.signage')} valuePropName="checked">
              <Switch data-testid="camera-form-signage" />
            </Form.Item>
          </Col>
        </Row>
        <Divider titlePlacement="start">{t('camera.sectionManagement')}</Divider>
        <Row gutter={16}>
          <Col span={12}>
            <Form.Item name="system_id" label={t('camera.system')}>
              <Select allowClear options={systems.items.map((s) => ({ value: s.id, label: s.name }))} data-testid="camera-form-system" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="funding" label={t('camera.funding')}>
              <Select allowClear options={fundings.map((f) => ({ value: f, label: tk(`funding.${f}`, f) }))} data-testid="camera-form-funding" />
            </Form.Item>
          </Col>
          <Col span={12}>{text('building_unit', t('camera.buildingUnit'), 'camera-form-building-unit')}</Col>
          <Col span={12}>{text('operating_unit', t('camera.operatingUnit'), 'camera-form-operating-unit')}</Col>
          <Col span={12}>{text('contact_name', t('camera.contactName'), 'camera-form-contact')}</Col>
          <Col span={12}>{text('contact_phone', t('camera.contactPhone'), 'camera-form-phone')}</Col>
          <Col span={12}>{text('commissioned_on', t('camera.commissionedOn'), 'camera-form-commissioned')}</Col>
          <Col span={12}>{text('accepted_on', t('camera.acceptedOn'), 'camera-form-accepted')}</Col>
        </Row>
        <Divider titlePlacement="start">{t('camera.sectionExtended')}</Divider>
        <Form.List name="extended">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Space key={f.key} align="baseline" style={{ display: 'flex' }}>
                  <Form.Item name={[f.name, 'key']} rules={[{ required: true, message: t('form.required') }]}>
                    <Input placeholder={t('camera.extKey')} data-testid="camera-form-ext-key" />
                  </Form.Item>
                  <Form.Item name={[f.name, 'value']}>
                    <Input placeholder={t('camera.extValue')} data-testid="camera-form-ext-value" />
                  </Form.Item>
                  <MinusCircleOutlined onClick={() => remove(f.name)} />
                </Space>
              ))}
              <Button type="dashed" onClick={() => add({ key: '', value: '' })} icon={<PlusOutlined />} data-testid="camera-form-ext-add">
                {t('camera.extAdd')}
              </Button>
            </>
          )}
        </Form.List>
      </Form>
    </Drawer>
  );
}
