// Driver for the player test page: opens PAGE_URL in headless Chromium,
// samples window.playertest every 500 ms for SECONDS and writes OUT_JSON:
//
//   {page, samples: [{t, frames, dropped, currentTime, audio, audioBytes,
//    audioPeak, readyState, paused}], errors: [...], events: [...],
//    console: [...], fatal}
//
//   node run.mjs PAGE_URL SECONDS OUT_JSON
//
// It exits 0 when it watched the page for the whole time (whether or not
// the stream played: the caller judges the samples), 1 on bad arguments or
// when Chromium or the page cannot be started, 2 when the page crashed and
// 3 when the global timeout fired. OUT_JSON is written in every case but
// bad arguments, with the reason in "fatal". PLAYERTEST_CHROMIUM overrides
// the browser (default /usr/bin/chromium); PLAYERTEST_CHROMIUM_ARGS adds
// flags, one a line.
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const sampleEveryMs = 500;
const maxConsoleLines = 300;
const maxConsoleText = 1000;
// Audio counts as present when the analyser sees samples above this (about
// -50 dBFS) or, before the meter runs, when the element decoded audio.
const audibleLevel = 0.003;

// chromiumArgs keep headless Chromium off the (closed) network, let media
// autoplay with sound, and give WebRTC pages fake capture devices. WebRTC
// tests run castd on loopback, advertising 127.0.0.1: Chromium pairs its
// candidates with a loopback address only when allowed to.
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

// PLAYERTEST_CHROMIUM_ARGS adds flags, one a line (a test's fake capture
// file, say).
const extraArgs = (process.env.PLAYERTEST_CHROMIUM_ARGS || '').split('\n').filter(Boolean);

const [pageURL, secondsArg, outPath] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!pageURL || !outPath || !(seconds > 0 && seconds <= 600)) {
  console.error('usage: node run.mjs PAGE_URL SECONDS OUT_JSON (0 < SECONDS <= 600)');
  process.exit(1);
}

const result = { page: pageURL, samples: [], errors: [], events: [], console: [], fatal: '' };
let browser = null;
let finished = false;
// playerErrors is the page's own error list as last sampled; result.errors
// gets it, then the driver's own findings, when the driver finishes.
let playerErrors = [];
let began = 0;
const elapsed = () => (began ? (Date.now() - began) / 1000 : 0);
const driverStart = Date.now();
// progress logs each step's time to stderr, to tell a slow machine from a
// hung step.
const progress = (step) => console.error(`run.mjs: ${step} at ${Date.now() - driverStart} ms`);

// finish writes OUT_JSON and exits. Playwright's exit handler kills
// Chromium's whole process group and removes its profile dir, so a browser
// that does not close in time cannot outlive the driver.
async function finish(code, fatal) {
  if (finished) {
    return;
  }
  finished = true;
  result.errors = [...playerErrors, ...result.errors];
  if (fatal) {
    result.fatal = fatal;
    console.error(`run.mjs: ${fatal}`);
  }
  try {
    writeFileSync(outPath, JSON.stringify(result, null, 1));
  } catch (e) {
    console.error(`run.mjs: write ${outPath}: ${e.message}`);
    code = code || 1;
  }
  progress('result written');
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
  progress('browser closed');
  process.exit(code);
}

// The global timeout covers launch, navigation and watching; 30 s is far
// more than a healthy start takes.
const globalTimeoutMs = seconds * 1000 + 30000;
setTimeout(() => finish(3, `global timeout after ${globalTimeoutMs} ms`), globalTimeoutMs).unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => finish(1, `stopped by ${signal}`));
}

function keepConsole(type, text) {
  if (result.console.length < maxConsoleLines) {
    result.console.push({ type, text: text.slice(0, maxConsoleText) });
  }
}

async function watch() {
  try {
    browser = await chromium.launch({
      executablePath: process.env.PLAYERTEST_CHROMIUM || '/usr/bin/chromium',
      // Playwright's own headless mode is off so that it adds neither its
      // headless flags nor --mute-audio: '--headless' above decides.
      // launch() gives Chromium a fresh profile dir under TMPDIR.
      headless: false,
      args: [...chromiumArgs, ...extraArgs],
      handleSIGINT: false,
      handleSIGTERM: false,
      timeout: 20000,
    });
  } catch (e) {
    return finish(1, `launch chromium: ${e.message}`);
  }
  progress('chromium launched');
  const page = await browser.newPage();
  page.on('console', (m) => keepConsole(m.type(), m.text()));
  page.on('pageerror', (e) => result.errors.push({ source: 'pageerror', t: elapsed(), detail: { name: e.name, message: e.message } }));
  page.on('crash', () => finish(2, 'the page crashed'));
  page.on('response', (r) => {
    if (r.status() >= 400) {
      keepConsole('http', `${r.status()} ${r.url()}`);
    }
  });

  try {
    await page.goto(pageURL, { waitUntil: 'load', timeout: 10000 });
    await page.waitForFunction(() => window.playertest !== undefined, null, { timeout: 5000 });
  } catch (e) {
    return finish(1, `open ${pageURL}: ${e.message}`);
  }

  progress('page open');
  began = Date.now();
  for (;;) {
    const t = elapsed();
    let snap;
    try {
      snap = await page.evaluate(() => ({
        ...window.playertest.snapshot(),
        errors: window.playertest.errors,
        events: window.playertest.events,
      }));
    } catch (e) {
      return finish(2, `sample the page at ${t}s: ${e.message}`);
    }
    playerErrors = snap.errors;
    result.events = snap.events;
    const { errors, events, ...counters } = snap;
    const audio = snap.audioPeak >= 0 ? snap.audioPeak > audibleLevel : snap.audioBytes > 0;
    result.samples.push({ t, ...counters, audio });
    if (t >= seconds) {
      break;
    }
    const next = began + result.samples.length * sampleEveryMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  finish(0, '');
}

watch().catch((e) => finish(1, `driver: ${e.stack || e.message}`));
