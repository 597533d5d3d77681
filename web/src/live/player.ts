// Live video into a <video> element: WebRTC through WHEP (RFC 9725:
// recvonly, POST the offer, set the answer, DELETE the session at the end),
// and fragmented MP4 through Media Source Extensions where WebRTC does not
// get through. Every start names the purpose (调用事由) the gate registers.
import { ApiError, base, csrfHeaders, problemOf, withQuery } from '../api';

export type Transport = 'webrtc' | 'fmp4';

/** A playing stream; stop ends it (and the server registers the end). */
export interface Playing {
  transport: Transport;
  stop: () => void;
}

const cam = (id: string) => `/cameras/${encodeURIComponent(id)}`;

/** Resolves when ICE gathering completes or after ms (non-trickle WHEP). */
function gathered(pc: RTCPeerConnection, ms: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((ok) => {
    const done = () => {
      if (pc.iceGatheringState === 'complete') {
        pc.removeEventListener('icegatheringstatechange', done);
        ok();
      }
    };
    pc.addEventListener('icegatheringstatechange', done);
    window.setTimeout(ok, ms);
  });
}

/** Resolves when the video shows its first frame; rejects after ms. */
function firstFrame(video: HTMLVideoElement, ms: number, what: string): Promise<void> {
  return new Promise((ok, fail) => {
    if (video.videoWidth > 0) return ok();
    const t = window.setTimeout(() => fail(new Error(`${what}: no picture after ${ms} ms`)), ms);
    video.addEventListener('loadeddata', () => {
      window.clearTimeout(t);
      ok();
    }, { once: true });
  });
}

/** Plays camera id over WHEP. */
export async function playWHEP(video: HTMLVideoElement, id: string, purpose: string, onEnd?: () => void, timeoutMs = 10000): Promise<Playing> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  let session: string | null = null;
  let started = false;
  pc.addEventListener('connectionstatechange', () => {
    if (started && (pc.connectionState === 'failed' || pc.connectionState === 'disconnected')) onEnd?.();
  });
  const stop = () => {
    started = false;
    // DELETE first: closing the connection first ends the session on the
    // server by itself and the DELETE would find none.
    if (session) void fetch(session, { method: 'DELETE', headers: csrfHeaders(), credentials: 'same-origin', keepalive: true }).catch(() => {});
    session = null;
    window.setTimeout(() => pc.close(), 500);
    video.srcObject = null;
  };
  try {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => {
      stream.addTrack(e.track);
      if (video.srcObject !== stream) video.srcObject = stream;
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 2000);
    const res = await fetch(base + withQuery(`${cam(id)}/whep`, { purpose }), {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Accept: 'application/sdp', ...csrfHeaders() },
      credentials: 'same-origin',
      body: pc.localDescription?.sdp ?? '',
    });
    if (!res.ok) throw await problemOf(res);
    const loc = res.headers.get('Location');
    session = loc ? new URL(loc, window.location.href).toString() : null;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    video.muted = true;
    void video.play().catch(() => {});
    await firstFrame(video, timeoutMs, 'WebRTC');
    started = true;
    return { transport: 'webrtc', stop };
  } catch (e) {
    stop();
    throw e;
  }
}

/** Plays camera id as fragmented MP4 through Media Source Extensions. */
export async function playFMP4(video: HTMLVideoElement, id: string, purpose: string, onEnd?: () => void, timeoutMs = 10000): Promise<Playing> {
  const infoRes = await fetch(base + `${cam(id)}/live/info`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!infoRes.ok) throw await problemOf(infoRes);
  const info = (await infoRes.json()) as { mime: string };
  if (!('MediaSource' in window) || !MediaSource.isTypeSupported(info.mime)) throw new Error(`MSE cannot play ${info.mime}`);
  const ms = new MediaSource();
  const url = URL.createObjectURL(ms);
  const abort = new AbortController();
  let stopped = false;
  const stop = () => {
    stopped = true;
    abort.abort();
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  };
  try {
    video.src = url;
    await new Promise<void>((ok) => ms.addEventListener('sourceopen', () => ok(), { once: true }));
    const sb = ms.addSourceBuffer(info.mime);
    const res = await fetch(base + withQuery(`${cam(id)}/live.mp4`, { purpose }), { credentials: 'same-origin', signal: abort.signal });
    if (!res.ok || !res.body) throw await problemOf(res);
    const queue: Uint8Array[] = [];
    const pump = () => {
      if (stopped || sb.updating || queue.length === 0 || ms.readyState !== 'open') return;
      // Keep the last 30 s; chase the live edge when more than 2 s behind.
      const b = sb.buffered;
      if (b.length > 0) {
        const end = b.end(b.length - 1);
        if (video.currentTime < b.start(0) || end - video.currentTime > 2) video.currentTime = Math.max(b.start(0), end - 0.3);
        if (video.currentTime - b.start(0) > 40) {
          sb.remove(b.start(0), video.currentTime - 30);
          return;
        }
      }
      const chunk = queue.shift()!;
      sb.appendBuffer(chunk as Uint8Array<ArrayBuffer>);
    };
    sb.addEventListener('updateend', pump);
    const reader = res.body.getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || stopped) break;
          queue.push(value);
          pump();
        }
      } catch {
        // aborted, or the connection broke
      }
      // The server ends the stream when the camera's parameter sets change
      // or it goes offline: the owner reconnects for a new init segment.
      if (!stopped) onEnd?.();
    })();
    video.muted = true;
    void video.play().catch(() => {});
    await firstFrame(video, timeoutMs, 'fMP4');
    return { transport: 'fmp4', stop };
  } catch (e) {
    stop();
    throw e;
  }
}

/** A refusal WebRTC cannot get around: the gate said no, or the camera is unknown. */
function final(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false;
  if (e.code === 'live.webrtc_codec') return false; // H.265: fMP4 may play it
  return [400, 401, 403, 404, 422].includes(e.status);
}

/**
 * Plays camera id: WebRTC first, fMP4 when WebRTC fails for a reason other
 * than a refusal (or only the transport asked for). onEnd is called when
 * an fMP4 stream ends by itself.
 */
export async function playLive(video: HTMLVideoElement, id: string, purpose: string, prefer: 'auto' | Transport, onEnd?: () => void): Promise<Playing> {
  if (prefer === 'fmp4') return playFMP4(video, id, purpose, onEnd);
  if (prefer === 'webrtc') return playWHEP(video, id, purpose, onEnd);
  try {
    return await playWHEP(video, id, purpose, onEnd);
  } catch (e) {
    if (final(e)) throw e;
    return playFMP4(video, id, purpose, onEnd);
  }
}
