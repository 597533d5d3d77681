import { useEffect, useRef, useState } from 'react';
import { Button, Tooltip } from 'antd';
import { CloseOutlined, FullscreenOutlined, ReloadOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n';
import Watermark from '../components/Watermark';
import { dragType } from './CameraTree';
import { playLive, type Playing, type Transport } from './player';
import type { Camera } from '../registry/types';

type State = 'empty' | 'connecting' | 'playing' | 'error';

/**
 * One tile of the video wall: a camera's live video (WHEP, else fMP4), the
 * identity watermark on top, a drop target for cameras from the tree, and
 * full-screen.
 */
export default function LiveTile(props: {
  index: number;
  camera?: Camera;
  active: boolean;
  prefer: 'auto' | Transport;
  purpose: () => Promise<string | null>;
  onActivate: () => void;
  onDrop: (cameraId: string) => void;
  onClear: () => void;
}) {
  const { t } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<State>('empty');
  const [transport, setTransport] = useState<Transport | ''>('');
  const [error, setError] = useState('');
  const [attempt, setAttempt] = useState(0);
  const { camera, prefer, purpose } = props;

  useEffect(() => {
    if (!camera || !video.current) {
      setState('empty');
      return;
    }
    let playing: Playing | null = null;
    let cancelled = false;
    const v = video.current;
    setState('connecting');
    setError('');
    setTransport('');
    void (async () => {
      const p = await purpose();
      if (cancelled) return;
      if (p === null) {
        setState('error');
        setError(t('purpose.declined'));
        return;
      }
      try {
        const got = await playLive(v, camera.id, p, prefer, () => {
          if (!cancelled) window.setTimeout(() => setAttempt((n) => n + 1), 1000);
        });
        if (cancelled) {
          got.stop();
          return;
        }
        playing = got;
        setTransport(got.transport);
        setState('playing');
      } catch (e) {
        if (!cancelled) {
          setState('error');
          setError(e instanceof Error ? e.message : String(e));
        }
      }
    })();
    return () => {
      cancelled = true;
      playing?.stop();
    };
  }, [camera, prefer, purpose, attempt, t]);

  return (
    <div
      ref={box}
      className={`wall-tile${props.active ? ' active' : ''}`}
      onClick={props.onActivate}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(dragType)) e.preventDefault();
      }}
      onDrop={(e) => {
        const id = e.dataTransfer.getData(dragType);
        if (id) {
          e.preventDefault();
          props.onDrop(id);
        }
      }}
      data-testid={`tile-${props.index}`}
      data-state={state}
      data-transport={transport}
      data-camera={camera?.id ?? ''}
    >
      <video ref={video} muted playsInline autoPlay data-testid={`tile-video-${props.index}`} />
      <div className="wall-tile-bar">
        <span className="wall-tile-name">{camera ? camera.name : t('wall.emptyTile')}</span>
        {transport && <span className="wall-tile-transport">{t(transport === 'webrtc' ? 'wall.viaWebRTC' : 'wall.viaFMP4')}</span>}
        <span className="spacer" />
        {camera && (
          <>
            <Tooltip title={t('wall.retry')}>
              <Button size="small" type="text" icon={<ReloadOutlined />} onClick={(e) => { e.stopPropagation(); setAttempt((n) => n + 1); }} />
            </Tooltip>
            <Tooltip title={t('wall.fullscreen')}>
              <Button size="small" type="text" icon={<FullscreenOutlined />} data-testid={`tile-fullscreen-${props.index}`}
                onClick={(e) => { e.stopPropagation(); void box.current?.requestFullscreen?.(); }} />
            </Tooltip>
            <Tooltip title={t('wall.clear')}>
              <Button size="small" type="text" icon={<CloseOutlined />} data-testid={`tile-clear-${props.index}`}
                onClick={(e) => { e.stopPropagation(); props.onClear(); }} />
            </Tooltip>
          </>
        )}
      </div>
      {state === 'error' && <div className="wall-tile-error" data-testid={`tile-error-${props.index}`}>{error}</div>}
      <Watermark />
    </div>
  );
}
