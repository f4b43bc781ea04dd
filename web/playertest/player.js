// The castd player test page: player.html?kind=KIND&url=STREAM plays one
// stream with the player library for KIND and exposes its progress as
// window.playertest, which the driver (run.mjs) samples. The page is served
// by castd itself, from the same origin as the stream.
'use strict';

// players maps a kind to the library script it needs (a name from
// libs.json, served under lib/; none for the browser's own WebRTC) and a
// function that attaches a player to the video element, returning when the
// element has its source (it may be async, as a WHEP offer/answer is).
// attach reports every player error through report(source, detail) and
// player events worth seeing in a failure through event(name, detail). The
// page calls video.play() itself.
const players = {
  flv: { lib: 'lib/mpegts.js', attach: (video, url, report, event) => attachMpegts(video, url, 'flv', report, event) },
  ts: { lib: 'lib/mpegts.js', attach: (video, url, report, event) => attachMpegts(video, url, 'mpegts', report, event) },
  dash: { lib: 'lib/dash.js', attach: attachDash },
  hls: { lib: 'lib/hls.js', attach: attachHls },
  file: { lib: '', attach: attachFile },
  whep: { lib: '', attach: attachWhep },
  whip: { lib: '', attach: attachWhip },
};

function attachMpegts(video, url, type, report, event) {
  const mpegts = window.mpegts;
  if (!mpegts.getFeatureList().mseLivePlayback) {
    throw new Error('mpegts.js: this browser cannot play live streams with MSE');
  }
  // Player errors arrive as ERROR events; the library's own console chatter
  // would only crowd the driver's console log.
  mpegts.LoggingControl.applyConfig({ enableVerbose: false, enableDebug: false, enableInfo: false });
  const player = mpegts.createPlayer({ type, url, isLive: true }, { enableWorker: false });
  player.on(mpegts.Events.ERROR, (errorType, detail, info) => report('mpegts.js', { type: errorType, detail, info }));
  // A live stream never completes: the server ending it is worth a look.
  player.on(mpegts.Events.LOADING_COMPLETE, () => event('mpegts.js loading complete'));
  player.on(mpegts.Events.MEDIA_INFO, (info) => event('mpegts.js media info', {
    mimeType: info.mimeType, videoCodec: info.videoCodec, audioCodec: info.audioCodec,
    width: info.width, height: info.height, fps: info.fps,
  }));
  player.attachMediaElement(video);
  player.load();
  return player;
}

// attachDash plays an MPD with dash.js. The live delay comes from the MPD
// (suggestedPresentationDelay) and the clock from its UTCTiming, so the page
// needs no time server. It returns once dash.js has set up the stream:
// dash.js learns that playback started from the element's play event, and
// misses one sent before (it then never refreshes a live MPD).
function attachDash(video, url, report, event) {
  const dashjs = window.dashjs;
  const player = dashjs.MediaPlayer().create();
  player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
  const events = dashjs.MediaPlayer.events;
  player.on(events.PLAYBACK_ERROR, (e) => report('dash.js playback', e.error ?? e));
  player.on(events.PERIOD_SWITCH_COMPLETED, (e) => event('dash.js period switch', { to: e.toStreamInfo && e.toStreamInfo.id }));
  return new Promise((resolve) => {
    player.on(events.ERROR, (e) => {
      report('dash.js', e.error ?? e);
      resolve(player);
    });
    player.on(events.STREAM_INITIALIZED, () => {
      event('dash.js stream initialized', {
        live: player.isDynamic(), delay: player.getTargetLiveDelay(),
        tracks: ['video', 'audio'].map((t) => {
          const track = player.getCurrentTrackFor(t);
          return track ? { type: t, codec: track.codec } : null;
        }).filter(Boolean),
      });
      resolve(player);
    });
    player.initialize(video, url, false);
  });
}

// attachFile plays a whole file (a DVR MP4) with the element alone, as a
// plain <video src> on a web page does; errors come as its error event.
function attachFile(video, url, report, event) {
  video.addEventListener('loadedmetadata', () => event('file metadata', {
    duration: video.duration, width: video.videoWidth, height: video.videoHeight,
  }), { once: true });
  video.src = url;
  return video;
}

// attachWhep plays a WHEP URL with the browser's own WebRTC: a recvonly
// offer for video and audio goes to the URL as application/sdp, the answer
// comes back in the 201 response. The element gets the remote stream once
// both tracks are known (the audio meter reads the stream's audio track).
async function attachWhep(video, url, report, event) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const stream = new MediaStream();
  pc.addEventListener('track', (e) => {
    stream.addTrack(e.track);
    event('webrtc track', { kind: e.track.kind });
  });
  watchPeer(pc, report, event);
  await exchangeSDP(pc, url, report, event);
  video.srcObject = stream;
  return pc;
}

// attachWhip publishes the browser's camera and microphone (Chromium's fake
// devices under the driver) to a WHIP URL and keeps publishing while the
// page is open. The element previews what is sent, so the page's counters
// show the capture itself works; the proof that castd relays it is a WHEP
// page playing the stream.
async function attachWhip(video, url, report, event) {
  const media = await navigator.mediaDevices.getUserMedia({
    video: { width: 640, height: 480, frameRate: 25 },
    // Voice processing would treat a test tone as noise and damp it.
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const pc = new RTCPeerConnection();
  for (const track of media.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [media] });
    // castd carries H.264 only: offer it first so the browser encodes it.
    if (track.kind === 'video' && transceiver.setCodecPreferences && RTCRtpSender.getCapabilities) {
      const codecs = RTCRtpSender.getCapabilities('video').codecs;
      const h264 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264');
      if (h264.length === 0) {
        report('whip', 'this browser cannot encode H.264');
      } else {
        transceiver.setCodecPreferences([...h264, ...codecs.filter((c) => !h264.includes(c))]);
      }
    }
  }
  watchPeer(pc, report, event);
  await exchangeSDP(pc, url, report, event);
  video.srcObject = media;
  return pc;
}

// watchPeer reports a failed ICE or DTLS connection as an error and the
// other state changes as events.
function watchPeer(pc, report, event) {
  pc.addEventListener('iceconnectionstatechange', () => {
    event('webrtc ice', { state: pc.iceConnectionState });
    if (pc.iceConnectionState === 'failed') {
      report('webrtc ice', { state: pc.iceConnectionState });
    }
  });
  pc.addEventListener('connectionstatechange', () => {
    event('webrtc connection', { state: pc.connectionState });
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
      report('webrtc connection', { state: pc.connectionState });
    }
  });
}

// exchangeSDP posts the local offer, with the candidates gathered in the
// first seconds (castd does not take trickled ones; being ICE-lite it
// learns the browser's address from the browser's own checks), and applies
// the answer. A refused offer throws, which the page reports.
async function exchangeSDP(pc, url, report, event) {
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, 2000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp' },
    body: pc.localDescription.sdp,
  });
  const answer = await response.text();
  if (response.status !== 201) {
    throw new Error(`POST ${url}: ${response.status} ${answer.slice(0, 200)}`);
  }
  event('webrtc answer', { location: response.headers.get('Location') });
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
}

// attachHls plays an HLS playlist (castd's hls_ctx master playlist or a
// media playlist) with hls.js. Every ERROR event is reported, recoverable
// ones too: a healthy live stream gives none. It returns once hls.js has
// read the manifest, or failed to.
function attachHls(video, url, report, event) {
  const Hls = window.Hls;
  if (!Hls.isSupported()) {
    throw new Error('hls.js: this browser has no MediaSource');
  }
  const hls = new Hls({ debug: false, enableWorker: false });
  const events = Hls.Events;
  hls.on(events.LEVEL_SWITCHED, (_, data) => event('hls.js level switched', { level: data.level }));
  hls.on(events.LEVEL_LOADED, (_, data) => {
    if (data.details.live === false) {
      event('hls.js playlist is not live', { endSN: data.details.endSN });
    }
  });
  return new Promise((resolve) => {
    hls.on(events.ERROR, (_, data) => {
      const detail = { type: data.type, details: data.details, fatal: data.fatal, url: data.url ?? (data.frag && data.frag.url) };
      // hls.js reports, and itself jumps, the few milliseconds between the
      // start of the buffer and the first frame when a live stream's audio
      // and video start apart; playback is unaffected (the frame and time
      // checks would see otherwise), so it is an event, not an error.
      if (!data.fatal && data.details === Hls.ErrorDetails.BUFFER_SEEK_OVER_HOLE) {
        event('hls.js seek over hole', detail);
        return;
      }
      report('hls.js', detail);
      if (data.fatal) {
        resolve(hls);
      }
    });
    hls.on(events.MANIFEST_PARSED, (_, data) => {
      event('hls.js manifest parsed', {
        levels: data.levels.map((l) => ({ codecs: [l.videoCodec, l.audioCodec].filter(Boolean), uri: l.uri })),
      });
      resolve(hls);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  });
}

// plainData turns an error detail into something JSON can carry.
function plainData(value) {
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  try {
    return JSON.parse(JSON.stringify(value ?? null));
  } catch (e) {
    return String(value);
  }
}

// AudioMeter reads the element's decoded audio through Web Audio (a muted
// element feeds Web Audio silence, so it unmutes it). It is made only when
// the AudioContext may run (autoplay allowed), and the graph ends in a zero
// gain, so nothing is ever heard.
class AudioMeter {
  constructor(video) {
    this.context = new AudioContext();
    if (this.context.state !== 'running') {
      this.context.close();
      throw new Error(`AudioContext is ${this.context.state}: start the browser with --autoplay-policy=no-user-gesture-required`);
    }
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 2048;
    this.buffer = new Float32Array(this.analyser.fftSize);
    const silence = this.context.createGain();
    silence.gain.value = 0;
    this.analyser.connect(silence);
    silence.connect(this.context.destination);
    if (video.srcObject instanceof MediaStream) {
      // WebRTC: read the stream itself; the element may stay muted.
      this.context.createMediaStreamSource(video.srcObject).connect(this.analyser);
    } else {
      this.context.createMediaElementSource(video).connect(this.analyser);
      video.muted = false;
    }
  }

  // peak is the largest absolute sample in the analyser's latest window.
  peak() {
    this.analyser.getFloatTimeDomainData(this.buffer);
    let max = 0;
    for (const s of this.buffer) {
      max = Math.max(max, Math.abs(s));
    }
    return max;
  }
}

function start() {
  const params = new URLSearchParams(location.search);
  const kind = params.get('kind') || '';
  const url = params.get('url') || '';
  const video = document.getElementById('video');
  const began = performance.now();
  const elapsed = () => (performance.now() - began) / 1000;
  const state = { kind, url, errors: [], events: [], meter: null };

  const report = (source, detail) => state.errors.push({ source, t: elapsed(), detail: plainData(detail) });
  const event = (name, detail) => state.events.push({ name, t: elapsed(), detail: plainData(detail) });

  window.playertest = {
    kind,
    url,
    errors: state.errors,
    events: state.events,
    // snapshot is what the driver samples every 500 ms.
    snapshot() {
      const q = video.getVideoPlaybackQuality();
      return {
        frames: q.totalVideoFrames,
        dropped: q.droppedVideoFrames,
        currentTime: video.currentTime,
        audioBytes: video.webkitAudioDecodedByteCount ?? -1,
        audioPeak: state.meter ? state.meter.peak() : -1,
        readyState: video.readyState,
        paused: video.paused,
      };
    },
  };

  video.addEventListener('error', () => {
    const e = video.error;
    report('video', { code: e ? e.code : 0, message: e ? e.message : '' });
  });
  video.addEventListener('playing', () => {
    event('video playing');
    if (state.meter) {
      return;
    }
    try {
      state.meter = new AudioMeter(video);
    } catch (e) {
      state.meter = { peak: () => -1 };
      report('audio meter', e);
    }
  });
  for (const name of ['waiting', 'stalled', 'ended', 'emptied']) {
    video.addEventListener(name, () => event(`video ${name}`));
  }

  const player = players[kind];
  if (!player) {
    report('page', `unknown kind ${JSON.stringify(kind)}; known: ${Object.keys(players).join(', ')}`);
    return;
  }
  if (!url) {
    report('page', 'no url in the query string');
    return;
  }
  const play = async () => {
    try {
      await player.attach(video, url, report, event);
    } catch (e) {
      report('page', e);
      return;
    }
    video.play().catch((e) => report('video play', e));
  };
  if (!player.lib) {
    play();
  } else {
    const script = document.createElement('script');
    script.src = player.lib;
    script.onerror = () => report('page', `cannot load ${player.lib}`);
    script.onload = play;
    document.head.appendChild(script);
  }

  const status = document.getElementById('status');
  setInterval(() => {
    status.textContent = JSON.stringify({ ...window.playertest.snapshot(), errors: state.errors, events: state.events }, null, 1);
  }, 1000);
}

start();
