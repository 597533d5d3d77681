import { useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, Col, Form, Input, InputNumber, Row, Space, Statistic, Typography } from 'antd';
import { api, ApiError } from '../api';
import { useI18n } from '../i18n';
import { percent } from '../registry/hooks';
import type { Camera, LatLon, Overlap } from '../registry/types';

const tileKey = 'vigil.tileUrl';
const W = 720;
const H = 540;

interface Planned {
  lat: number;
  lon: number;
  azimuth: number;
  fov: number;
  range: number;
}

/** Metres per degree around a latitude (equirectangular; fine for a district). */
function metresPerDegree(lat: number) {
  return { ky: 111_320, kx: 111_320 * Math.cos((lat * Math.PI) / 180) };
}

/** A sector as WGS-84 points, apex first (as internal/registry Sector.Polygon). */
export function sectorPolygon(s: Planned, steps = 24): LatLon[] {
  const { kx, ky } = metresPerDegree(s.lat);
  const fov = Math.min(s.fov, 360);
  const out: LatLon[] = fov < 360 ? [{ lat: s.lat, lon: s.lon }] : [];
  for (let i = 0; i <= steps; i++) {
    const a = ((s.azimuth - fov / 2 + (fov * i) / steps) * Math.PI) / 180;
    out.push({ lat: s.lat + (s.range * Math.cos(a)) / ky, lon: s.lon + (s.range * Math.sin(a)) / kx });
  }
  return out;
}

/**
 * Coverage (REG-8): the visible sectors of filed cameras drawn on a plain
 * coordinate plane (metres east and north of the centre; no internet map
 * tiles), and the overlap check of a planned camera.
 */
export default function Coverage() {
  const { t } = useI18n();
  const [cameras, setCameras] = useState<Camera[]>([]);
  const [planned, setPlanned] = useState<Planned | null>(null);
  const [result, setResult] = useState<{ overlap: Overlap; sector: LatLon[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tileUrl, setTileUrl] = useState(() => localStorage.getItem(tileKey) ?? '');
  const [form] = Form.useForm<Planned>();

  useEffect(() => {
    api.get<{ cameras: Camera[] }>('/cameras?limit=1000', { quiet: true }).then((r) => setCameras(r.cameras ?? []), () => setCameras([]));
  }, []);

  const sectors = useMemo(
    () => cameras.filter((c) => (c.lat || c.lon) && c.azimuth != null && (c.fov ?? 0) > 0 && (c.range ?? 0) > 0 && c.state !== 'deregistered')
      .map((c) => ({ camera: c, points: sectorPolygon({ lat: c.lat!, lon: c.lon!, azimuth: c.azimuth!, fov: c.fov!, range: c.range! }) })),
    [cameras],
  );

  // The plane: centred on the planned camera, else on the cameras; scaled to fit.
  const view = useMemo(() => {
    const pts = [...sectors.flatMap((s) => s.points), ...(result?.sector ?? [])];
    if (pts.length === 0) return null;
    const lat0 = planned?.lat ?? pts.reduce((a, p) => a + p.lat, 0) / pts.length;
    const lon0 = planned?.lon ?? pts.reduce((a, p) => a + p.lon, 0) / pts.length;
    const { kx, ky } = metresPerDegree(lat0);
    let half = 50;
    for (const p of pts) half = Math.max(half, Math.abs((p.lon - lon0) * kx), Math.abs((p.lat - lat0) * ky));
    const scale = (Math.min(W, H) / 2 - 20) / half;
    const xy = (p: LatLon) => `${(W / 2 + (p.lon - lon0) * kx * scale).toFixed(1)},${(H / 2 - (p.lat - lat0) * ky * scale).toFixed(1)}`;
    return { xy, half };
  }, [sectors, result, planned]);

  const check = async (v: Planned) => {
    setError(null);
    setPlanned(v);
    try {
      setResult(await api.post<{ overlap: Overlap; sector: LatLon[] }>('/coverage/check', v, { quiet: true }));
    } catch (e) {
      setResult(null);
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.coverage')}</Typography.Title>
      </div>
      <Row gutter={16}>
        <Col xs={24} xl={14}>
          <Card size="small" title={t('coverage.plane', { n: sectors.length })}>
            <svg viewBox={`0 0 ${W} ${H}`} style={{ background: '#f4f6f9', display: 'block', width: '100%' }} data-testid="coverage-plane">
              <line x1={W / 2} y1={0} x2={W / 2} y2={H} stroke="#d0d7e2" />
              <line x1={0} y1={H / 2} x2={W} y2={H / 2} stroke="#d0d7e2" />
              {view && sectors.map((s) => (
                <polygon key={s.camera.id} points={s.points.map(view.xy).join(' ')} fill="rgba(31,58,95,0.25)" stroke="#1f3a5f" data-testid="coverage-sector">
                  <title>{`${s.camera.name} ${s.camera.code}`}</title>
                </polygon>
              ))}
              {view && result && (
                <polygon points={result.sector.map(view.xy).join(' ')} fill={result.overlap.flagged ? 'rgba(207,19,34,0.3)' : 'rgba(56,158,13,0.3)'}
                  stroke={result.overlap.flagged ? '#cf1322' : '#389e0d'} strokeDasharray="6 3" data-testid="coverage-planned" />
              )}
            </svg>
            {view && <Typography.Text type="secondary">{t('coverage.scale', { m: Math.round(view.half) })}</Typography.Text>}
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Space direction="vertical" style={{ width: '100%' }}>
            <Card size="small" title={t('coverage.checkTitle')}>
              <Form form={form} layout="vertical" onFinish={check} name="coverage" initialValues={{ fov: 60, range: 50, azimuth: 0 }}>
                <Row gutter={8}>
                  <Col span={12}><Form.Item name="lat" label={t('camera.lat')} rules={[{ required: true, message: t('form.required') }]}><InputNumber style={{ width: '100%' }} step={0.0001} data-testid="coverage-lat" /></Form.Item></Col>
                  <Col span={12}><Form.Item name="lon" label={t('camera.lon')} rules={[{ required: true, message: t('form.required') }]}><InputNumber style={{ width: '100%' }} step={0.0001} data-testid="coverage-lon" /></Form.Item></Col>
                  <Col span={8}><Form.Item name="azimuth" label={t('camera.azimuth')}><InputNumber style={{ width: '100%' }} min={0} max={360} data-testid="coverage-azimuth" /></Form.Item></Col>
                  <Col span={8}><Form.Item name="fov" label={t('camera.fov')}><InputNumber style={{ width: '100%' }} min={1} max={360} data-testid="coverage-fov" /></Form.Item></Col>
                  <Col span={8}><Form.Item name="range" label={t('camera.range')}><InputNumber style={{ width: '100%' }} min={1} data-testid="coverage-range" /></Form.Item></Col>
                </Row>
                <Button type="primary" htmlType="submit" data-testid="coverage-check">{t('coverage.check')}</Button>
              </Form>
            </Card>
            {error && <Alert type="error" showIcon title={error} />}
            {result && (
              <Card size="small" data-testid="coverage-result" data-flagged={result.overlap.flagged ? 'true' : 'false'}>
                <Space size="large">
                  <Statistic title={t('coverage.share')} value={percent(result.overlap.share)} valueStyle={{ color: result.overlap.flagged ? '#cf1322' : '#389e0d' }} />
                  <Statistic title={t('coverage.threshold')} value={percent(result.overlap.threshold)} />
                  <Statistic title={t('coverage.candidates')} value={result.overlap.candidates} />
                </Space>
                <div>{result.overlap.flagged ? t('coverage.flagged') : t('coverage.notFlagged')}</div>
              </Card>
            )}
            <Card size="small" title={t('coverage.tileTitle')}>
              <Space.Compact style={{ width: '100%' }}>
                <Input value={tileUrl} onChange={(e) => setTileUrl(e.target.value)} placeholder="http://tiles.intranet/{z}/{x}/{y}.png" data-testid="coverage-tile-url" />
                <Button onClick={() => localStorage.setItem(tileKey, tileUrl.trim())} data-testid="coverage-tile-save">{t('common.save')}</Button>
              </Space.Compact>
              <Typography.Text type="secondary">{t('coverage.tileHelp')}</Typography.Text>
            </Card>
          </Space>
        </Col>
      </Row>
    </>
  );
}
