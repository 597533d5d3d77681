// Vigil live player helpers for the browser (no dependencies).
//
// vigilWHEP(video, endpoint, opts) plays a camera over WebRTC (WHEP):
//   endpoint: "/api/v1/cameras/{id}/whep?purpose=…"
//   opts.headers: extra request headers (e.g. {"X-CSRF-Token": token})
// It resolves to {pc, session, accessRecord, postedAt, close()}; close()
// DELETEs the session (its end is registered) and closes the connection.
// A refusal rejects with an Error whose .problem is the problem+json body
// (e.g. code "policy.purpose_required": ask the viewer for a purpose).
//
// vigilMSE(video, url, opts) plays the fMP4 fallback through Media Source
// Extensions: url is "/api/v1/cameras/{id}/live.mp4?purpose=…", opts.mime
// the type from GET …/live/info (or it is read from X-Vigil-Codecs). It
// resolves to {close()} once the stream has started.
//
// vigilCountFrames(video, ms) counts requestVideoFrameCallback calls for
// ms milliseconds and resolves to the count.
async function vigilWHEP(video, endpoint, opts = {}) {
  const headers = opts.headers || {};
  const pc = new RTCPeerConnection({bundlePolicy: 'max-bundle'});
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.addTransceiver('audio', {direction: 'recvonly'});
  const stream = new MediaStream();
  pc.ontrack = (e) => {
    stream.addTrack(e.track);
    if (video.srcObject !== stream) video.srcObject = stream;
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
    setTimeout(resolve, 1000); // host candidates come at once; do not wait for slow ones
  });
  const postedAt = performance.now();
  const res = await fetch(endpoint, {method: 'POST', credentials: 'same-origin',
    headers: Object.assign({'Content-Type': 'application/sdp'}, headers), body: pc.localDescription.sdp});
  if (res.status !== 201) {
    pc.close();
    let problem = null;
    try { problem = await res.json(); } catch (e) { /* not JSON */ }
    const err = new Error(problem ? problem.detail : 'WHEP answered ' + res.status);
    err.problem = problem;
    throw err;
  }
  const session = new URL(res.headers.get('Location'), location.href).toString();
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
  return {
    pc, session, postedAt,
    accessRecord: res.headers.get('X-Vigil-Access-Record'),
    close: async () => {
      pc.close();
      await fetch(session, {method: 'DELETE', credentials: 'same-origin', headers});
    },
  };
}

async function vigilMSE(video, url, opts = {}) {
  const ctl = new AbortController();
  const res = await fetch(url, {credentials: 'same-origin', signal: ctl.signal, headers: opts.headers || {}});
  if (res.status !== 200) {
    let problem = null;
    try { problem = await res.json(); } catch (e) { /* not JSON */ }
    const err = new Error(problem ? problem.detail : 'live.mp4 answered ' + res.status);
    err.problem = problem;
    throw err;
  }
  const mime = opts.mime || res.headers.get('X-Vigil-Codecs');
  if (!MediaSource.isTypeSupported(mime)) throw new Error('this browser cannot play ' + mime);
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise((r) => ms.addEventListener('sourceopen', r, {once: true}));
  const sb = ms.addSourceBuffer(mime);
  sb.mode = 'segments';
  const queue = [];
  const pump = () => {
    if (sb.updating || queue.length === 0) return;
    sb.appendBuffer(queue.shift());
  };
  sb.addEventListener('updateend', () => {
    // Live: keep about 10 s behind the play head, and chase the edge.
    if (!sb.updating && sb.buffered.length && video.currentTime - sb.buffered.start(0) > 20) {
      sb.remove(sb.buffered.start(0), video.currentTime - 10);
      return;
    }
    if (sb.buffered.length && sb.buffered.end(0) - video.currentTime > 3) video.currentTime = sb.buffered.end(0) - 0.5;
    pump();
  });
  const reader = res.body.getReader();
  (async () => {
    for (;;) {
      const {done, value} = await reader.read().catch(() => ({done: true}));
      if (done) break;
      queue.push(value);
      pump();
    }
  })();
  return {close: () => { ctl.abort(); }};
}

function vigilCountFrames(video, ms) {
  return new Promise((resolve) => {
    let n = 0;
    const end = performance.now() + ms;
    const cb = (now) => {
      n++;
      if (now < end) video.requestVideoFrameCallback(cb); else resolve(n);
    };
    video.requestVideoFrameCallback(cb);
    setTimeout(() => resolve(n), ms + 500);
  });
}
