import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, DatePicker, Empty, Select, Space, Tag, Typography } from 'antd';
import { PauseCircleOutlined, PlayCircleOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { api, base, withQuery } from '../api';
import { useI18n } from '../i18n';
import Watermark from '../components/Watermark';
import CameraTree, { useCameras } from '../live/CameraTree';
import Timeline, { type Span } from '../live/Timeline';
import { usePurpose } from '../live/purpose';
import type { Camera } from '../registry/types';

const speeds = [0.5, 1, 2, 4, 8];
const zooms = [
  { key: 'day', ms: 86400_000 },
  { key: 'h6', ms: 6 * 3600_000 },
  { key: 'h1', ms: 3600_000 },
  { key: 'm10', ms: 600_000 },
  { key: 'm1', ms: 60_000 },
] as const;
/** Seconds of footage one request asks for (the API allows 14400). */
const clipSeconds = 3600;
const maxCameras = 4;

interface Coverage {
  spans: Span[];
  gaps: Span[];
}

/**
 * Playback (录像回放, MED-4): up to four cameras' recordings in step, a
 * timeline per camera from a day down to seconds, scrubbing, 0.5×–8×,
 * jump to a date and time; the identity watermark on every tile (EXP-3);
 * the purpose stated before footage is read (ACC-3).
 */
export default function Playback() {
  const { t, time } = useI18n();
  const { cameras, sites, loading } = useCameras();
  const purpose = usePurpose();
  const [picked, setPicked] = useState<Camera[]>([]);
  const [cursor, setCursor] = useState<number>(() => Date.now() - 3600_000);
  const [zoom, setZoom] = useState<(typeof zooms)[number]['key']>('h1');
  const [speed, setSpeed] = useState(1);
  const [playing, setPlaying] = useState(false);
  const [clip, setClip] = useState<{ start: number; purpose: string } | null>(null);
  const [coverage, setCoverage] = useState<Record<string, Coverage>>({});
  const [error, setError] = useState<string | null>(null);
  const videos = useRef<Array<HTMLVideoElement | null>>([]);

  const zoomMs = zooms.find((z) => z.key === zoom)!.ms;
  const from = zoom === 'day' ? dayjs(cursor).startOf('day').valueOf() : cursor - zoomMs / 2;
  const to = from + zoomMs;
  const day = dayjs(cursor).startOf('day').valueOf();

  // Recorded spans and gaps of each camera on the cursor's day.
  // Refreshed every 15 s: today's recording grows.
  useEffect(() => {
    const load = () => {
      for (const c of picked) {
        const q = withQuery(`/cameras/${encodeURIComponent(c.id)}/recordings`, { start: new Date(day).toISOString(), end: new Date(day + 86400_000).toISOString() });
        api.get<Coverage>(q, { quiet: true }).then(
          (r) => setCoverage((m) => ({ ...m, [c.id]: { spans: r.spans ?? [], gaps: r.gaps ?? [] } })),
          () => setCoverage((m) => ({ ...m, [c.id]: { spans: [], gaps: [] } })),
        );
      }
    };
    load();
    const id = window.setInterval(load, 15000);
    return () => window.clearInterval(id);
  }, [picked, day]);

  const master = () => videos.current.find((v) => v && v.readyState > 0) ?? null;

  // Start every tile's clip at ms (a new access per camera, registered by the gate).
  const startAt = useCallback(async (ms: number) => {
    const p = await purpose.ensure();
    if (p === null) return;
    setError(null);
    setCursor(ms);
    setClip({ start: ms, purpose: p });
    setPlaying(true);
  }, [purpose]);

  // Load the clip into each video once it is chosen.
  useEffect(() => {
    if (!clip) return;
    picked.forEach((c, i) => {
      const v = videos.current[i];
      if (!v) return;
      v.src = base + withQuery(`/cameras/${encodeURIComponent(c.id)}/playback`, {
        start: new Date(clip.start).toISOString(), duration: clipSeconds, purpose: clip.purpose || undefined,
      });
      v.playbackRate = speed;
      v.defaultPlaybackRate = speed;
      v.onerror = () => setError(t('playback.error', { camera: c.name }));
      void v.play().catch(() => {});
    });
    // speed is applied by its own effect
  }, [clip, picked]);

  useEffect(() => {
    for (const v of videos.current) if (v) v.playbackRate = speed;
  }, [speed]);

  useEffect(() => {
    for (const v of videos.current) {
      if (!v || !v.src) continue;
      if (playing) void v.play().catch(() => {});
      else v.pause();
    }
  }, [playing]);

  // The clock follows the first video; the others are kept within 0.3 s of it.
  useEffect(() => {
    if (!clip) return;
    const id = window.setInterval(() => {
      const m = master();
      if (!m) return;
      for (const v of videos.current) {
        if (v && v !== m && v.readyState > 0 && Math.abs(v.currentTime - m.currentTime) > 0.3) v.currentTime = m.currentTime;
      }
      setCursor(clip.start + m.currentTime * 1000);
    }, 200);
    return () => window.clearInterval(id);
  }, [clip]);

  // A seek inside the loaded clip moves the videos; outside, it starts a new clip.
  const seek = (ms: number) => {
    const m = master();
    if (clip && m && ms >= clip.start && ms < clip.start + Math.min(m.duration || clipSeconds, clipSeconds) * 1000) {
      const s = (ms - clip.start) / 1000;
      for (const v of videos.current) if (v && v.readyState > 0) v.currentTime = s;
      setCursor(ms);
      return;
    }
    if (clip) void startAt(ms);
    else setCursor(ms);
  };

  const pick = (c: Camera) =>
    setPicked((ps) => (ps.some((p) => p.id === c.id) || ps.length >= maxCameras ? ps : [...ps, c]));

  const cols = picked.length <= 1 ? 1 : 2;
  const selected = useMemo(() => picked.map((p) => p.id), [picked]);

  return (
    <div className="playback-page" data-testid="playback" data-clock={clip ? new Date(cursor).toISOString() : ''} data-clip-start={clip ? new Date(clip.start).toISOString() : ''}>
      <div className="wall-side">
        <CameraTree cameras={cameras} sites={sites} loading={loading} onPick={pick} selected={selected} />
      </div>
      <div className="playback-main">
        <div className="page-toolbar" style={{ marginBottom: 0 }}>
          <Typography.Title level={4} style={{ margin: 0 }}>{t('nav.playback')}</Typography.Title>
          <span className="spacer" />
          <DatePicker showTime value={dayjs(cursor)} allowClear={false} onChange={(d: Dayjs | null) => d && setCursor(d.valueOf())} data-testid="playback-datetime" />
          <Button type="primary" icon={<PlayCircleOutlined />} disabled={picked.length === 0} onClick={() => void startAt(cursor)} data-testid="playback-go">{t('playback.go')}</Button>
          <Button icon={playing ? <PauseCircleOutlined /> : <PlayCircleOutlined />} disabled={!clip} onClick={() => setPlaying((p) => !p)} data-testid="playback-toggle">
            {playing ? t('playback.pause') : t('playback.play')}
          </Button>
          <Select value={speed} onChange={setSpeed} style={{ width: 90 }} data-testid="playback-speed"
            options={speeds.map((s) => ({ value: s, label: t('playback.speed', { x: s }) }))} />
          <Select value={zoom} onChange={setZoom} style={{ width: 120 }} data-testid="playback-zoom"
            options={zooms.map((z) => ({ value: z.key, label: t(`playback.zoom.${z.key}`) }))} />
        </div>
        <Space wrap>
          <span>{t('playback.clock')}</span>
          <Typography.Text strong className="mono" data-testid="playback-clock">{time(new Date(cursor).toISOString())}</Typography.Text>
          {picked.map((c) => (
            <Tag key={c.id} closable onClose={() => setPicked((ps) => ps.filter((p) => p.id !== c.id))}>{c.name}</Tag>
          ))}
          <Typography.Text type="secondary">{t('playback.pickHelp', { n: maxCameras })}</Typography.Text>
        </Space>
        {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(null)} />}
        {picked.length === 0 ? <Empty description={t('playback.none')} /> : (
          <>
            {picked.map((c) => (
              <div key={c.id}>
                <Typography.Text>{c.name}</Typography.Text>
                <Timeline from={from} to={to} spans={coverage[c.id]?.spans ?? []} gaps={coverage[c.id]?.gaps ?? []} cursor={cursor} onSeek={seek} testid={`timeline-${c.code}`} />
              </div>
            ))}
            <div className="playback-grid" style={{ gridTemplateColumns: `repeat(${cols}, 1fr)` }}>
              {picked.map((c, i) => (
                <div key={c.id} className="wall-tile" data-testid={`playback-tile-${i}`} data-camera={c.id}>
                  <video ref={(v) => { videos.current[i] = v; }} muted playsInline preload="auto" data-testid={`playback-video-${i}`} />
                  <div className="wall-tile-bar"><span className="wall-tile-name">{c.name}</span></div>
                  <Watermark />
                </div>
              ))}
            </div>
          </>
        )}
      </div>
      {purpose.modal}
    </div>
  );
}
