// Driver for castd's management console (internal/e2e/browser_console_test.go):
// opens the console in headless Chromium, waits until it lists STREAM and
// its publisher, reads the stream's play URLs, then kicks the publisher
// (accepting the confirm dialog) and waits until the page no longer lists
// it. It writes OUT_JSON:
//
//   {page, stream: [cells], urls: [{kind, url}], client: {id, cells},
//    dialog, message, kicked, errorsShown, console: [...], fatal}
//
//   node console.mjs PAGE_URL STREAM OUT_JSON
//
// It exits 0 when every step passed, 1 on bad arguments or a failed step
// (the step is in "fatal") and 3 on the global timeout. PLAYERTEST_CHROMIUM
// overrides the browser (default /usr/bin/chromium).
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const stepTimeoutMs = 15000;
const globalTimeoutMs = 60000;
const maxConsoleLines = 200;

const [pageURL, streamName, outPath] = process.argv.slice(2);
if (!pageURL || !streamName || !outPath) {
  console.error('usage: node console.mjs PAGE_URL STREAM OUT_JSON');
  process.exit(1);
}

const result = {
  page: pageURL, stream: [], urls: [], client: null, dialog: '', message: '', kicked: false,
  errorsShown: '', console: [], fatal: '',
};
let browser = null;
let finished = false;
const started = Date.now();
const progress = (step) => console.error(`console.mjs: ${step} at ${Date.now() - started} ms`);

async function finish(code, fatal) {
  if (finished) {
    return;
  }
  finished = true;
  if (fatal) {
    result.fatal = fatal;
    console.error(`console.mjs: ${fatal}`);
  }
  try {
    writeFileSync(outPath, JSON.stringify(result, null, 1));
  } catch (e) {
    console.error(`console.mjs: write ${outPath}: ${e.message}`);
    code = code || 1;
  }
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
  process.exit(code);
}

setTimeout(() => finish(3, `global timeout after ${globalTimeoutMs} ms`), globalTimeoutMs).unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => finish(1, `stopped by ${signal}`));
}

function keepConsole(type, text) {
  if (result.console.length < maxConsoleLines) {
    result.console.push({ type, text: text.slice(0, 1000) });
  }
}

// step runs one named part of the scenario; a failure ends the run with
// the step's name.
async function step(name, f) {
  try {
    const v = await f();
    progress(name);
    return v;
  } catch (e) {
    await finish(1, `${name}: ${e.message}`);
    throw e;
  }
}

async function run() {
  browser = await step('launch chromium', () => chromium.launch({
    executablePath: process.env.PLAYERTEST_CHROMIUM || '/usr/bin/chromium',
    headless: false, // '--headless' below decides, as in run.mjs
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    handleSIGINT: false,
    handleSIGTERM: false,
    timeout: 20000,
  }));
  const page = await browser.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  page.on('console', (m) => keepConsole(m.type(), m.text()));
  page.on('pageerror', (e) => keepConsole('pageerror', `${e.name}: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) {
      keepConsole('http', `${r.status()} ${r.url()}`);
    }
  });

  await step('open the console', () => page.goto(pageURL, { waitUntil: 'load' }));

  const streamRow = page.locator(`#streams tbody tr[data-stream-name="${streamName}"]`);
  await step('the stream is listed', () => streamRow.waitFor());
  result.stream = await streamRow.locator('td').allInnerTexts();

  await step('show its play URLs', () => streamRow.getByRole('button', { name: /Play URLs of/ }).click());
  const urlItems = page.locator('#streams tr.urls li');
  await step('the play URLs are shown', () => urlItems.first().waitFor());
  result.urls = await urlItems.evaluateAll((items) =>
    items.map((li) => ({ kind: li.dataset.kind, url: li.querySelector('code').textContent })));

  const clientRow = page.locator(`#clients tbody tr[data-publish="true"][data-stream-name="${streamName}"]`);
  await step('the publisher is listed', () => clientRow.waitFor());
  const id = await clientRow.getAttribute('data-client-id');
  result.client = { id, cells: await clientRow.locator('td').allInnerTexts() };
  result.errorsShown = await page.locator('#errors').evaluate((e) => (e.hidden ? '' : e.textContent));

  page.once('dialog', async (d) => {
    result.dialog = d.message();
    await d.accept();
  });
  await step('kick the publisher', () => clientRow.getByRole('button', { name: `Kick client ${id}` }).click());
  await step('the publisher is gone from the page', () =>
    page.locator(`#clients tbody tr[data-client-id="${id}"]`).waitFor({ state: 'detached' }));
  result.kicked = true;
  result.message = await page.locator('#message').textContent();
  await finish(0, '');
}

run().catch((e) => finish(1, `driver: ${e.stack || e.message}`));
