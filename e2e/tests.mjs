// The end-to-end tests (run by e2e/run.mjs). Each test gets a context with the browser, the base URL,
// the CLI path and a temporary directory.

import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const sigmoid = (a) => 1 / (1 + Math.exp(-a));

async function openPage(ctx, { url = ctx.base, viewport = { width: 1280, height: 800 } } = {}) {
  const page = await ctx.browser.newPage({ viewport, acceptDownloads: true });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('#expected-loss', { timeout: 30000 });
  return { page, errors };
}

/** The readout row of an estimator, as numbers. */
async function row(page, key) {
  return page.locator(`#readout tr[data-key="${key}"]`).evaluate((tr) => ({
    method: tr.dataset.method || null,
    bias: tr.dataset.bias === undefined ? null : Number(tr.dataset.bias),
    variance: tr.dataset.variance === undefined ? null : Number(tr.dataset.variance),
    mean: tr.dataset.mean ? JSON.parse(tr.dataset.mean) : null,
    text: tr.textContent,
  }));
}

async function waitRow(page, key, pred = (r) => r.method, timeout = 20000) {
  const t0 = Date.now();
  for (;;) {
    const count = await page.locator(`#readout tr[data-key="${key}"]`).count();
    if (count) {
      const r = await row(page, key);
      if (pred(r)) return r;
    }
    if (Date.now() - t0 > timeout) throw new Error(`row ${key} not ready after ${timeout} ms`);
    await page.waitForTimeout(100);
  }
}

/** Samples per estimator from the status line ("Sampling: 12,800 samples per estimator"). */
async function samples(page) {
  const text = await page.locator('.status').textContent();
  const m = text.match(/([\d,]+) samples per estimator/);
  return m ? Number(m[1].replace(/,/g, '')) : 0;
}

/** Set a range input (or select) and fire the events a user's drag would. */
async function setInput(page, selector, value) {
  await page.locator(selector).evaluate((el, v) => {
    el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, String(value));
}

/** The round values of a log slider (app/src/ladder.rs): its positions are their indices. */
function ladder(lo, hi) {
  const out = [];
  for (let e = -5; e <= 5; e++) {
    for (const m of ['1', '1.2', '1.5', '2', '2.5', '3', '4', '5', '6', '8']) {
      const v = Number(`${m}e${e}`);
      if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) out.push(v);
    }
  }
  return out;
}
const TAUS = ladder(0.05, 10);
const tauIndex = (v) => { const i = TAUS.indexOf(v); if (i < 0) throw new Error(`τ ${v} is not on the slider`); return i; };

function close(a, b, rel, what) {
  const tol = rel * Math.max(Math.abs(a), Math.abs(b)) + 1e-300;
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (rel ${rel})`);
}

const flatten = (layered) => layered.layers.flatMap((l) => [...l.weights.flat(), ...l.bias]);

export const tests = [
  ['the default view loads without errors and shows the lecture story', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    const ef = Number(await page.locator('#expected-loss').getAttribute('data-value'));
    const p = sigmoid(-1), t = 0.45;
    close(ef, p * (1 - t) ** 2 + (1 - p) * t ** 2, 1e-12, 'E[f]');
    const g = p * (1 - p) * ((1 - t) ** 2 - t ** 2);
    const reinforce = await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    close(reinforce.mean[0], g, 1e-12, 'REINFORCE mean = exact gradient');
    const st = await waitRow(page, 'st', (r) => r.method === 'exact');
    assert.ok(st.mean[0] < 0 && g > 0, `straight-through has the wrong sign: ${st.mean[0]} vs ${g}`);
    const concrete = await waitRow(page, 'concrete', (r) => r.method === 'quadrature');
    assert.ok(concrete.bias > 0);
    // It samples by itself (playing on load) and draws the seven plots (convergence, bars, agreement, distribution, τ and firing-probability sweeps, …).
    await page.waitForFunction(() => /samples per estimator/.test(document.querySelector('.status').textContent), null, { timeout: 15000 });
    assert.equal(await page.locator('.plot-grid figure.plot canvas').count(), 7);
    const blank = await page.locator('#plot-convergence canvas').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++;
      return ink;
    });
    assert.ok(blank > 1000, `the convergence plot has ink (${blank} dark pixels)`);
    assert.deepEqual(errors, [], 'no console errors');
    await page.close();
  }],

  ['moving the τ slider changes the τ readout and the figures', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    const before = await waitRow(page, 'concrete', (r) => r.method === 'quadrature');
    await setInput(page, '#tau', tauIndex(2));
    await page.waitForFunction(() => document.querySelector('label[for="tau"] output').textContent === 'τ = 2');
    const after = await waitRow(page, 'concrete', (r) => r.method === 'quadrature' && r.bias !== before.bias);
    assert.notEqual(after.variance, before.variance);
    // Keyboard: every press of an arrow key moves τ one visible step, both ways, over the whole
    // range (it used to jam: at 0.10 ← and → did nothing, from 0.5 it stalled at 0.32 / 0.35).
    await page.locator('#tau').focus();
    const shown = () => page.locator('label[for="tau"] output').textContent();
    let prev = await shown();
    const seen = [prev];
    // The label follows the re-render: wait for it (a loaded machine renders late), then read it.
    const moved = async (from) => {
      await page.waitForFunction((p) => document.querySelector('label[for="tau"] output').textContent !== p, from, { timeout: 2000 }).catch(() => {});
      return shown();
    };
    for (let i = 0; i < TAUS.length + 2; i++) {
      await page.keyboard.press('ArrowLeft');
      const now = await moved(prev);
      if (now === prev) break;
      seen.push(now);
      prev = now;
    }
    assert.equal(prev, 'τ = 0.05', `left to the end: ${seen.join(', ')}`);
    assert.equal(seen.length, tauIndex(2) + 1, `one step per press: ${seen.join(', ')}`);
    for (let i = 0; i < TAUS.length - 1; i++) {
      await page.keyboard.press('ArrowRight');
      const now = await moved(prev);
      assert.notEqual(now, prev, `→ at ${prev} did nothing`);
      prev = now;
    }
    assert.equal(prev, 'τ = 10');
    assert.match(await page.locator('#tau').getAttribute('aria-valuetext'), /^τ = [\d.]+$/);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['while new answers are computed, the plots keep the last ones (marked stale), then draw the new', async (ctx) => {
    // 20 units with one worker: the joint estimators' exact moments take a second or more.
    const url = `${ctx.base}?workers=1#est=reinforce,st&w=10,10&in=4&loss=readout&t=1&a=0&play=0`;
    const { page, errors } = await openPage(ctx, { url });
    const ink = () => page.locator('#plot-bars canvas').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
      return n;
    });
    const settled = () => page.waitForFunction(() => !document.querySelector('figure.plot.stale')
      && document.querySelectorAll('#readout tr[data-method="exact"]').length === 2, null, { timeout: 60000 });
    await settled();
    const before = await waitRow(page, 'st', (r) => r.method === 'exact');
    const inkBefore = await ink();
    assert.ok(inkBefore > 1000, `the bars are drawn (${inkBefore} dark pixels)`);
    await setInput(page, '#logit', 0.5);
    // At once: the readout waits for the new answers, the plots keep the old picture, marked.
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('figure.plot.stale')].map((f) => f.id).sort()),
      ['plot-agreement', 'plot-bars', 'plot-convergence']);
    assert.equal(await page.locator('#plot-bars').getAttribute('aria-busy'), 'true');
    assert.ok(await ink() > 1000, 'the held picture is not blanked');
    await settled();
    const after = await waitRow(page, 'st', (r) => r.method === 'exact');
    assert.notDeepEqual(after.mean, before.mean, 'new answers');
    assert.equal(await page.locator('#plot-bars').getAttribute('aria-busy'), null);
    assert.ok(await ink() > 1000);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['selecting an estimator adds its row, its card and its series', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    assert.equal(await page.locator('#readout tr[data-key="disarm"]').count(), 0);
    await page.locator('#est-disarm').check();
    const r = await waitRow(page, 'disarm', (x) => x.method === 'exact');
    const exactGrad = (await waitRow(page, 'reinforce', (x) => x.method === 'exact')).mean[0];
    close(r.mean[0], exactGrad, 1e-12, 'DisARM is unbiased');
    assert.equal(await page.locator('#card-disarm').count(), 1);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['the firing-probability sweep marks the optimum at the range\'s edge and straight-through\'s stationary point at p = t', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.locator('#plot-logit').scrollIntoViewIfNeeded();
    const caption = page.locator('#logit-caption');
    const t0 = Date.now();
    let text = '';
    for (;;) {
      text = (await caption.textContent()) || '';
      if (text.includes("st's expected gradient") && text.includes("reinforce's expected gradient")) break;
      if (Date.now() - t0 > 60000) throw new Error(`the sweep's caption is not complete: ${text}`);
      await page.waitForTimeout(200);
    }
    // Default toy: t = 0.45, so E[f] rises with p (lowest at the low edge, p = σ(−6)), and
    // straight-through's E[ĝ] = 2(p − t) crosses zero at p = t; REINFORCE is unbiased: no crossing.
    assert.ok(text.includes("E[f] is lowest at p = 0.00247, at the range's edge"), text);
    assert.ok(text.includes("st's expected gradient crosses zero at p = 0.45 (exact, by bisection)"), text);
    assert.ok(text.includes("reinforce's expected gradient does not cross zero in the range"), text);
    const label = await page.locator('#plot-logit canvas').getAttribute('aria-label');
    assert.ok(label.includes('firing probability p') && label.includes('st ('), label);
    fs.mkdirSync(ctx.shots, { recursive: true });
    await page.locator('#plot-logit').screenshot({ path: path.join(ctx.shots, 'logit-sweep.png') });
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['play and pause start and stop the sampling', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.waitForFunction(() => /samples per estimator/.test(document.querySelector('.status').textContent), null, { timeout: 15000 });
    await page.locator('#play').click(); // pause
    await page.waitForTimeout(400);
    const n1 = await samples(page);
    await page.waitForTimeout(800);
    const n2 = await samples(page);
    assert.equal(n2, n1, 'paused: no new samples');
    assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'false');
    await page.locator('#play').click(); // play
    await page.waitForFunction((n) => {
      const m = document.querySelector('.status').textContent.match(/([\d,]+) samples per estimator/);
      return m && Number(m[1].replace(/,/g, '')) > n;
    }, n2, { timeout: 10000 });
    // Step draws exactly one frame.
    await page.locator('#play').click();
    await page.waitForTimeout(400);
    const n3 = await samples(page);
    await page.locator('#step').click();
    await page.waitForFunction((n) => {
      const m = document.querySelector('.status').textContent.match(/([\d,]+) samples per estimator/);
      return m && Number(m[1].replace(/,/g, '')) > n;
    }, n3, { timeout: 10000 });
    await page.waitForTimeout(400);
    assert.equal(await samples(page), n3 + 256, 'one frame of 256 samples');
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['a width at the enumeration limit keeps the page responsive', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.selectOption('#layers', '2');
    await setInput(page, '#weight-scale', '1');
    await setInput(page, '#width-1', '12');
    // Measure frame gaps on the main thread while the worker enumerates 2^24 state pairs.
    await page.evaluate(() => {
      window.__gaps = [];
      let last = performance.now();
      const tick = (t) => { window.__gaps.push(t - last); last = t; if (window.__gaps.length < 100000) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    });
    await setInput(page, '#width-2', '12');
    await page.waitForFunction(() => document.querySelector('#exact-summary') && /168 parameters/.test(document.querySelector('#exact-summary').textContent)
      && document.querySelector('#width-2').value === '12', null, { timeout: 60000 });
    await page.waitForFunction(() => document.querySelector('#expected-loss'), null, { timeout: 60000 });
    await page.waitForTimeout(3000);
    const maxGap = await page.evaluate(() => Math.max(...window.__gaps.slice(1)));
    assert.ok(maxGap < 500, `longest frame gap ${maxGap.toFixed(0)} ms`);
    // Still usable: a click on pause is honoured.
    await page.locator('#play').click();
    await page.waitForFunction(() => document.querySelector('#play').getAttribute('aria-pressed') === 'false');
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['one engine, one answer: the exported model gives the same numbers in the CLI', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.selectOption('#layers', '2');
    await setInput(page, '#inputs', '2');
    await setInput(page, '#weight-scale', '1');
    await setInput(page, '#width-1', '3');
    await setInput(page, '#width-2', '2');
    await page.selectOption('#loss', 'readout');
    for (const key of ['reinforce-loo', 'st-tempered']) await page.locator(`#est-${key}`).check();
    const keys = ['reinforce', 'reinforce-optimal', 'reinforce-loo', 'st', 'st-sigmoid', 'st-tempered'];
    const rows = {};
    for (const k of keys) rows[k] = await waitRow(page, k, (r) => r.method === 'exact' && r.mean && r.mean.length === 3 * 2 + 3 + 2 * 3 + 2);
    const download = page.waitForEvent('download');
    await page.locator('#export-model').click();
    const file = path.join(ctx.tmp, (await download).suggestedFilename());
    await (await download).saveAs(file);
    const model = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(model.layers.length, 2);
    const tau = (await page.locator('label[for="tau"] output').textContent()).match(/τ = ([\d.]+)/)[1];
    const exact = JSON.parse(ctx.execFileSync(ctx.cli, ['exact', file]).toString());
    close(exact.expected_loss, Number(await page.locator('#expected-loss').getAttribute('data-value')), 1e-12, 'E[f]');
    const gradNorm = Number(await page.locator('#grad-norm').getAttribute('data-value'));
    close(Math.hypot(...flatten(exact.gradient)), gradNorm, 1e-12, '‖∇‖');
    // bias² of an unbiased estimator is an exact zero up to rounding: compare those on the page's
    // rounding floor (a few ulps of the loss's size, squared), everything else at 1e-12 relative.
    const floor = (1e-13 * Math.max(Math.abs(exact.expected_loss), gradNorm)) ** 2;
    const closeSq = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)) + floor, `${what}: ${a} vs ${b}`);
    for (const k of keys) {
      const out = JSON.parse(ctx.execFileSync(ctx.cli, ['moments', file, '--estimator', k, '--method', 'exact', '--tau', tau]).toString());
      const mean = flatten(out.mean);
      assert.equal(mean.length, rows[k].mean.length);
      mean.forEach((m, i) => close(m, rows[k].mean[i], 1e-12, `${k} mean[${i}]`));
      closeSq(out.bias_sq_norm, rows[k].bias, `${k} bias²`);
      close(out.variance_trace, rows[k].variance, 1e-12, `${k} variance`);
    }
    // The parameter picker (layer, unit, weight or bias): the parameter it names, its exact
    // gradient (the CLI's, to the 6 digits shown) and its index in the address bar.
    const picked = async (name, want, index) => {
      await page.waitForFunction((n) => document.querySelector('#param-gradient')?.textContent.includes(`∂${n} =`), name);
      const shown = Number((await page.locator('#param-gradient').textContent()).split('= ')[1]);
      close(shown, want, 1e-5, `∂E[f]/∂${name}`);
      await page.waitForFunction((i) => new RegExp(`[#&]p=${i}(&|$)`).test(location.hash), index);
    };
    const g = exact.gradient.layers;
    await page.selectOption('#param-layer', '2');
    await page.selectOption('#param-unit', '1');
    await page.selectOption('#param-from', 'bias');
    await picked('c2[1]', g[1].bias[1], 3 * 2 + 3 + 2 * 3 + 1);
    await page.selectOption('#param-layer', '1'); // the unit and the bias stay: c1[1]
    await picked('c1[1]', g[0].bias[1], 3 * 2 + 1);
    await page.selectOption('#param-from', { value: '1' }); // weight from input x[1]
    await picked('W1[1][1]', g[0].weights[1][1], 1 * 2 + 1);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['the page is served from a sub-path too', async (ctx) => {
    const { page, errors } = await openPage(ctx, { url: ctx.base + 'sub/' });
    await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['a number being typed survives the re-renders of sampling and racing', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    // On load the page samples and races: it re-renders several times a second.
    const field = page.locator('#network-seed');
    await field.click();
    await field.press('Control+a');
    await page.keyboard.type('4');
    await page.waitForTimeout(700);
    assert.equal(await field.inputValue(), '4', 'the draft was overwritten by a re-render');
    await page.keyboard.type('2');
    await page.waitForTimeout(700);
    assert.equal(await field.inputValue(), '42');
    await field.press('Tab');
    await page.waitForFunction(() => /ns=42(&|$)/.test(location.hash));
    assert.equal(await field.inputValue(), '42');
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['Random draws a seed from the browser, shows it, writes it into the link, and the link reproduces the picture', async (ctx) => {
    const { page, errors } = await openPage(ctx, { url: ctx.base + '#loss=readout&in=2&w=3&play=0' });
    await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    const ef = () => page.locator('#expected-loss').getAttribute('data-value');
    const before = { seed: await page.locator('#network-seed').inputValue(), ef: await ef() };
    await page.locator('#network-seed-random').click();
    await page.waitForFunction((s) => document.querySelector('#network-seed').value !== s, before.seed);
    const seed = await page.locator('#network-seed').inputValue();
    assert.match(seed, /^[1-9][0-9]{0,5}$/, 'a seed of at most six digits');
    await page.waitForFunction((s) => new RegExp(`ns=${s}(&|$)`).test(location.hash), seed);
    // New weights: a new exact answer.
    await page.waitForFunction((e) => { const el = document.querySelector('#expected-loss'); return el && el.getAttribute('data-value') !== e; }, before.ef);
    await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    const after = await ef();
    // The sampling seed's button too: the exact answer stays.
    const ss = await page.locator('#sampling-seed').inputValue();
    await page.locator('#sampling-seed-random').click();
    await page.waitForFunction((s) => document.querySelector('#sampling-seed').value !== s, ss);
    const ss2 = await page.locator('#sampling-seed').inputValue();
    await page.waitForFunction((s) => new RegExp(`ss=${s}(&|$)`).test(location.hash), ss2);
    const href = await page.evaluate(() => location.href);
    // The link, opened anew, shows the same network and seeds: the same exact answer.
    const other = await openPage(ctx, { url: href });
    await waitRow(other.page, 'reinforce', (r) => r.method === 'exact');
    assert.equal(await other.page.locator('#network-seed').inputValue(), seed);
    assert.equal(await other.page.locator('#sampling-seed').inputValue(), ss2);
    assert.equal(await other.page.locator('#expected-loss').getAttribute('data-value'), after);
    assert.deepEqual(errors, []);
    assert.deepEqual(other.errors, []);
    await other.page.close();
    await page.close();
  }],

  ['the URL holds every setting: a copied link reopens the same state', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.selectOption('#layers', '2');
    await setInput(page, '#width-1', '3');
    await setInput(page, '#tau', tauIndex(0.25));
    await page.locator('#est-arm').check();
    await page.locator('#play').click(); // pause
    await page.locator('#network-seed').fill('17');
    await page.locator('#network-seed').press('Tab'); // commit the field (change event)
    await page.waitForFunction(() => /ns=17/.test(location.hash));
    await page.locator('#plot-bars .enlarge').click();
    await page.waitForSelector('#plot-bars .enlarge[aria-pressed="true"]');
    // ARM is Monte Carlo only at depth 2; paused, its row says so.
    await waitRow(page, 'arm', (r) => /Monte Carlo only/.test(r.text));
    // The address bar follows the state within 250 ms (it is written at most that often).
    await page.waitForFunction(() => /focus=bars/.test(location.hash));
    const href = await page.evaluate(() => location.href);
    assert.match(href, /#.*est=reinforce,reinforce-optimal,arm,st,st-sigmoid,concrete/);
    assert.match(href, /tau=0\.25/);
    assert.match(href, /w=3,1/);
    assert.match(href, /ns=17/);
    assert.match(href, /play=0/);
    assert.match(href, /focus=bars/);
    const summary = await page.locator('#expected-loss').getAttribute('data-value');
    const reinforce = await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    // Open the link in a new page: same settings, same exact numbers, same focus.
    const { page: other, errors: errors2 } = await openPage(ctx, { url: href });
    assert.equal(await other.locator('#expected-loss').getAttribute('data-value'), summary);
    assert.deepEqual((await waitRow(other, 'reinforce', (r) => r.method === 'exact')).mean, reinforce.mean);
    assert.equal(await other.locator('#tau').inputValue(), await page.locator('#tau').inputValue());
    assert.equal(await other.locator('#play').getAttribute('aria-pressed'), 'false');
    assert.ok(await other.locator('#est-arm').isChecked());
    assert.equal(await other.locator('.plot-grid .cell').first().locator('figure').getAttribute('id'), 'plot-bars');
    assert.equal(await other.evaluate(() => location.href), href);
    assert.deepEqual(errors, []);
    assert.deepEqual(errors2, []);
    await page.close();
    await other.close();
  }],

  ['bad values in a hand-edited link are clamped, reported, and never freeze the tab', async (ctx) => {
    const { page, errors } = await openPage(ctx, { url: ctx.base + '#w=40,40&tau=-3&est=reinforce,nonsense&zzz=1&ss=abc&in=99' });
    const notes = await page.locator('ul.notes').textContent();
    assert.match(notes, /width of layer 1 40 is outside 1–12; using 12/);
    assert.match(notes, /τ -3 is outside \[0\.05, 10\]; using 0\.05/);
    assert.match(notes, /unknown setting "zzz" ignored/);
    assert.match(notes, /ss=abc/);
    assert.match(notes, /unknown estimator "nonsense" ignored/);
    assert.equal(await page.locator('#width-1').inputValue(), '12');
    assert.equal(await page.locator('#width-2').inputValue(), '12');
    // The page stays responsive while the worker enumerates (12, 12).
    const t0 = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    assert.ok(Date.now() - t0 < 1000, 'frames keep coming');
    await waitRow(page, 'reinforce', (r) => r.method, 60000);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['keyboard shortcuts: space, →, r, n, l and ?', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.locator('h1').click(); // focus on the page, not a control
    assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'true');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#play').getAttribute('aria-pressed') === 'false');
    await page.waitForTimeout(300);
    const n0 = await samples(page);
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((n) => {
      const m = document.querySelector('.status').textContent.match(/([\d,]+) samples per estimator/);
      return m && Number(m[1].replace(/,/g, '')) === n + 256;
    }, n0, { timeout: 10000 });
    const seed = await page.locator('#sampling-seed').inputValue();
    await page.keyboard.press('n');
    await page.waitForFunction((s) => document.querySelector('#sampling-seed').value === String(Number(s) + 1), seed);
    await page.keyboard.press('r');
    await page.waitForFunction(() => /ss=\d+/.test(location.hash));
    await page.keyboard.press('l');
    await page.waitForSelector('.app.lecture');
    await page.keyboard.press('l');
    await page.keyboard.press('?');
    await page.waitForSelector('#shortcuts');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#shortcuts', { state: 'detached' });
    // Typing in a field is not a shortcut.
    await page.locator('#network-seed').focus();
    await page.keyboard.press('n');
    assert.equal(await page.locator('#sampling-seed').inputValue(), String(Number(seed) + 1));
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['exports: CSV with a header and one row per point, PNG at 2×, SVG', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.selectOption('#layers', '1');
    await setInput(page, '#width-1', '3');
    await waitRow(page, 'reinforce', (r) => r.method === 'exact' && r.mean.length === 3);
    const get = async (selector) => {
      const dl = page.waitForEvent('download');
      await page.locator(selector).click();
      const d = await dl;
      const file = path.join(ctx.tmp, d.suggestedFilename());
      await d.saveAs(file);
      return { name: d.suggestedFilename(), file };
    };
    const agree = await get('#plot-agreement button:text("CSV")');
    assert.match(agree.name, /^stochgrad-agreement-toy-w3-.*\.csv$/);
    // The settings as comment lines, then the header row.
    const all = fs.readFileSync(agree.file, 'utf8').trim().split('\n');
    const comments = all.filter((l) => l.startsWith('#'));
    assert.match(comments[0], /^# stochgrad: Estimated against exact gradient/);
    assert.ok(comments.some((l) => /network seed 1, sampling seed 1/.test(l)), comments.join('\n'));
    const link = comments.find((l) => /#est=/.test(l));
    assert.ok(link && link.includes('w=3'), `the link: ${link}`);
    const lines = all.filter((l) => !l.startsWith('#'));
    assert.match(lines[0], /estimator/);
    // 5 estimators × 3 parameters.
    assert.equal(lines.length - 1, 5 * 3, lines.join('\n'));
    const png = await get('#plot-convergence button:text("PNG")');
    const buf = fs.readFileSync(png.file);
    assert.equal(buf.subarray(1, 4).toString(), 'PNG');
    const width = buf.readUInt32BE(16);
    const cssWidth = await page.locator('#plot-convergence canvas').evaluate((c) => c.clientWidth);
    assert.equal(width, 2 * cssWidth, 'PNG at twice the on-screen size');
    const readout = await get('#readout-csv');
    const table = fs.readFileSync(readout.file, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#'));
    assert.match(table[0], /^estimator,name,unbiased,method/);
    assert.equal(table.length - 1, 5, 'one row per selected estimator');
    assert.match(readout.name, /^stochgrad-figures-toy-w3-.*\.csv$/);
    const svg = await get('#plot-bars button:text("SVG")');
    const svgText = fs.readFileSync(svg.file, 'utf8');
    assert.match(svgText, /<svg[\s\S]*reinforce[\s\S]*<\/svg>/);
    // The caption: title, network and loss, τ, seeds, samples drawn, the link.
    for (const text of ['Bias² and variance', 'Network: 1 layer of widths 3', 'toy loss', 'τ = 0.5', 'sampling seed 1', 'samples per', '#est=']) {
      assert.ok(svgText.includes(text), `the SVG's caption lacks ${text}`);
    }
    // File names differ between configurations and never repeat a word.
    await page.selectOption('#loss', 'readout');
    await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    const other = await get('#readout-csv');
    assert.notEqual(other.name, readout.name);
    const words = other.name.replace(/\.csv$/, '').split('-');
    assert.equal(new Set(words).size, words.length, other.name);
    assert.ok(await page.locator('#plot-bars button[aria-label="Export bias² and variance as PNG"]').count() === 1, 'buttons named with their plot');
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['plots are drawn at their size on screen, also after a plot is enlarged or the window resized', async (ctx) => {
    // Paused, so nothing redraws the plots but a change of their size.
    const { page, errors } = await openPage(ctx, { url: `${ctx.base}#play=0&est=reinforce,st` });
    const sizes = () => page.evaluate(() => [...document.querySelectorAll('figure.plot canvas')].map((c) => {
      const r = c.getBoundingClientRect(), dpr = window.devicePixelRatio;
      return { id: c.closest('figure').id, bitmap: [c.width, c.height], css: [Math.round(r.width * dpr), Math.round(r.height * dpr)] };
    }));
    const settled = async (what) => {
      let last;
      for (let i = 0; i < 40; i++) {
        last = await sizes();
        if (last.length >= 5 && last.every((p) => p.bitmap[0] === p.css[0] && p.bitmap[1] === p.css[1])) return;
        await page.waitForTimeout(100);
      }
      assert.fail(`${what}: canvas bitmaps do not match their boxes: ${JSON.stringify(last)}`);
    };
    await page.waitForFunction(() => document.querySelectorAll('figure.plot canvas').length >= 5);
    await settled('on load');
    const before = (await sizes()).find((p) => p.id === 'plot-bars');
    await page.locator('#plot-bars button.enlarge').click();
    await page.waitForFunction(() => document.querySelector('#plot-bars').classList.contains('focused'));
    await settled('after enlarging the bars plot');
    const after = (await sizes()).find((p) => p.id === 'plot-bars');
    assert.ok(after.bitmap[0] > before.bitmap[0] && after.bitmap[1] > before.bitmap[1], `enlarged: ${JSON.stringify([before, after])}`);
    await page.setViewportSize({ width: 1000, height: 800 });
    await settled('after resizing the window');
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['presets load their story and settings', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.locator('#preset-reward-only').click();
    await page.waitForSelector('#story');
    assert.match(await page.locator('#story').textContent(), /0\/1 reward/);
    const st = await waitRow(page, 'st', (r) => /not applicable/.test(r.text));
    assert.ok(st);
    await waitRow(page, 'disarm', (r) => r.method === 'exact');
    await page.waitForFunction(() => /loss=match/.test(location.hash));
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['categorical units: the Units control, exact figures equal to the CLI\'s on the exported model, binary-only estimators greyed, the simplex drawn', async (ctx) => {
    const { page, errors } = await openPage(ctx, { url: ctx.base + '#est=reinforce,st-sigmoid,reinmax,concrete,arm' });
    await page.selectOption('#unit-type', 'categorical');
    await page.waitForFunction(() => /[#&]unit=categorical(&|$)/.test(location.hash) && /[#&]kc=3(&|$)/.test(location.hash));
    // One unit of three classes: three parameters (the classes' biases), named by unit and class.
    await page.waitForFunction(() => /3 parameters/.test(document.querySelector('#results')?.textContent || ''));
    assert.match(await page.locator('.param-picker').textContent(), /unit 0, class 0/);
    // ARM has no categorical form: greyed, with the reason; REINFORCE and ReinMax exact; Gumbel-softmax Monte Carlo.
    const arm = await waitRow(page, 'arm', (r) => /not applicable/.test(r.text));
    assert.match(arm.text, /binary units only/);
    const reinforce = await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    const reinmax = await waitRow(page, 'reinmax', (r) => r.method === 'exact');
    await waitRow(page, 'concrete', (r) => r.method === 'monte-carlo');
    // The exported MODEL.json is categorical, and the CLI gives the page's numbers on it.
    const download = page.waitForEvent('download');
    await page.locator('#export-model').click();
    const file = path.join(ctx.tmp, `categorical-${(await download).suggestedFilename()}`);
    await (await download).saveAs(file);
    const model = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(model.layers[0].unit, 'categorical');
    assert.equal(model.layers[0].classes, 3);
    assert.equal(model.layers[0].bias.length, 3);
    const cli = (args) => JSON.parse(ctx.execFileSync(ctx.cli, args).toString());
    const exact = cli(['exact', file]);
    close(exact.expected_loss, Number(await page.locator('#expected-loss').getAttribute('data-value')), 1e-12, 'E[f]');
    const g = flatten(exact.gradient);
    assert.equal(g.length, 3);
    assert.ok(Math.abs(g[0] + g[1] + g[2]) < 1e-12, `a softmax sees only differences of logits: ${g}`);
    reinforce.mean.forEach((m, i) => close(m, g[i], 1e-12, `reinforce mean ${i} = the exact gradient`));
    const rm = cli(['moments', file, '--estimator', 'reinmax', '--tau', '0.5']);
    flatten(rm.mean).forEach((m, i) => close(m, reinmax.mean[i], 1e-12, `reinmax mean ${i} vs CLI`));
    close(rm.variance_trace, reinmax.variance, 1e-12, 'reinmax variance vs CLI');
    // The simplex: drawn below the other plots, its caption stating π.
    await page.waitForSelector('#plot-simplex canvas');
    const p0 = Math.exp(-1) / (Math.exp(-1) + 2);
    assert.match(await page.locator('#simplex-caption').textContent(), new RegExp(`π = softmax\\(a\\) = \\(${p0.toFixed(3)}, `));
    // K = 5 by its slider: the simplex says what it needs, the CLI still agrees.
    await setInput(page, '#classes-k', '5');
    await page.waitForFunction(() => /[#&]kc=5(&|$)/.test(location.hash));
    await page.waitForFunction(() => /for one categorical unit of K = 3/.test(document.querySelector('#simplex-caption')?.textContent || ''));
    await waitRow(page, 'reinforce', (r) => r.method === 'exact' && r.mean.length === 5);
    // The story: the simplex enlarged, its caption at the story's τ.
    await page.locator('#preset-gumbel-softmax').click();
    await page.waitForFunction(() => /[#&]focus=simplex(&|$)/.test(location.hash));
    await page.waitForFunction(() => /73% of the way/.test(document.querySelector('#simplex-caption')?.textContent || ''));
    fs.mkdirSync(ctx.shots, { recursive: true });
    await page.locator('#plot-simplex').screenshot({ path: path.join(ctx.shots, 'simplex.png') });
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['the extension of f flips straight-through\'s sign, and "w.r.t. p" shows the CLI\'s --wrt p numbers', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    const exported = async () => {
      const download = page.waitForEvent('download');
      await page.locator('#export-model').click();
      const file = path.join(ctx.tmp, `ext-${Date.now()}-${(await download).suggestedFilename()}`);
      await (await download).saveAs(file);
      return file;
    };
    // The default view: the curved extension, straight-through points the wrong way.
    let st = await waitRow(page, 'st', (r) => r.method === 'exact');
    assert.ok(st.mean[0] < 0, `curved: ${st.mean[0]}`);
    // The story that changes only the extension: the right sign, 1 − 2t = 0.1, and the CLI agrees.
    await page.locator('#preset-extension').click();
    await page.waitForFunction(() => /ext=multilinear/.test(location.hash));
    st = await waitRow(page, 'st', (r) => r.method === 'exact' && r.mean[0] > 0);
    close(st.mean[0], 0.1, 1e-12, 'multilinear st mean');
    assert.equal(await page.locator('#extension').inputValue(), 'multilinear');
    let file = await exported();
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).loss.extension, 'multilinear');
    const cli = (args) => JSON.parse(ctx.execFileSync(ctx.cli, args).toString());
    close(flatten(cli(['moments', file, '--estimator', 'st']).mean)[0], st.mean[0], 1e-12, 'st mean vs CLI');
    const le = await waitRow(page, 'local-expectation', (r) => r.method === 'exact');
    const sts = await waitRow(page, 'st-sigmoid', (r) => r.method === 'exact');
    close(sts.mean[0], le.mean[0], 1e-12, 'st-sigmoid = local expectation');
    // Back to the curved extension through its control.
    await page.selectOption('#extension', 'curved');
    st = await waitRow(page, 'st', (r) => r.method === 'exact' && r.mean[0] < 0);
    // Derivatives w.r.t. p: the picker's line, the readout and the axis say p; numbers as the CLI's.
    await page.locator('#wrt-p').check();
    await page.waitForFunction(() => /wrt=p/.test(location.hash));
    await page.waitForFunction(() => /∂E\[f\]\/∂p = 0\.1 /.test(document.querySelector('#param-gradient').textContent));
    assert.match(await page.locator('#readout-convention').textContent(), /p = σ\(a\)/);
    file = await exported();
    const perP = await waitRow(page, 'st', (r) => r.method === 'exact');
    const out = cli(['moments', file, '--estimator', 'st', '--wrt', 'p']);
    close(out.mean.p, perP.mean[0], 1e-12, 'st mean w.r.t. p');
    close(out.bias_sq_norm, perP.bias, 1e-12, 'st bias² w.r.t. p');
    close(out.variance_trace, perP.variance, 1e-12, 'st variance w.r.t. p');
    close(out.mean.p, st.mean[0] / (sigmoid(-1) * sigmoid(1)), 1e-12, 'divided by σ′(a)');
    // With inputs the network has more than one parameter: the choice is not offered.
    await setInput(page, '#inputs', '2');
    await page.waitForFunction(() => !document.querySelector('#wrt-p'));
    assert.doesNotMatch(await page.locator('#param-gradient').textContent(), /∂p/);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['your own f: a typed expression gives exact figures, the CLI\'s, and a bad one says where', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await setInput(page, '#width-1', '2');
    await page.selectOption('#loss', 'expression');
    await setInput(page, '#expression', 'abs(h1 + h2 - 1)');
    await page.waitForFunction(() => /[#&]loss=expression(&|$)/.test(location.hash) && /[#&]fx=abs\(h1%20%2B%20h2%20-%201\)(&|$)/.test(location.hash));
    // f = 1 at (0, 0) and (1, 1), else 0; both units fire with p = σ(−1).
    const p = sigmoid(-1);
    await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    await page.waitForFunction((want) => Math.abs(Number(document.querySelector('#expected-loss')?.dataset.value) - want) < 1e-12, p * p + (1 - p) * (1 - p));
    // No derivative at h = (1, 0) (abs at 0): straight-through does not apply, and says why.
    await page.waitForFunction(() => document.querySelector('#est-st')?.closest('li')?.classList.contains('na'));
    assert.match(await page.locator('label[for="est-st"]').getAttribute('title'), /no derivative at h = \(1, 0\) \(abs at 0\)/);
    // The exported model gives the CLI's numbers.
    const download = page.waitForEvent('download');
    await page.locator('#export-model').click();
    const file = path.join(ctx.tmp, `expr-${(await download).suggestedFilename()}`);
    await (await download).saveAs(file);
    const model = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(model.loss, { kind: 'expression', f: 'abs(h1 + h2 - 1)' });
    const exact = JSON.parse(ctx.execFileSync(ctx.cli, ['exact', file]).toString());
    close(exact.expected_loss, Number(await page.locator('#expected-loss').getAttribute('data-value')), 1e-12, 'E[f]');
    // A bad expression: the column under the field; the link keeps the last valid one.
    await setInput(page, '#expression', '(h1 + h3');
    await page.waitForSelector('#expression-error');
    assert.match(await page.locator('#expression-error').textContent(), /column 7: h3 is not a unit/);
    assert.match(await page.evaluate(() => location.hash), /fx=abs/);
    await setInput(page, '#expression', 'log(h2)');
    await page.waitForFunction(() => /not finite at h = \(0, 0\)/.test(document.querySelector('#expression-error')?.textContent || ''));
    await page.screenshot({ path: path.join(ctx.shots, 'expression.png') });
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['numerical edge cases (τ = 0.05, saturated logits, widths at the limit) never show NaN or ∞', async (ctx) => {
    const keys = JSON.parse(ctx.execFileSync(ctx.cli, ['estimators']).toString()).map((e) => e.key).join(',');
    const hashes = [
      `#est=${keys}&tau=0.05&a=30`,
      `#est=${keys}&tau=10&a=-30&w=12`,
      `#est=${keys}&tau=0.05&w=3,3&in=4&ws=3&loss=softmax&spf=1024`,
      `#est=${keys}&tau=0.05&a=30&unit=categorical&kc=10&w=3`,
    ];
    for (const hash of hashes) {
      const { page, errors } = await openPage(ctx, { url: ctx.base + hash });
      // Wait until every row has figures or a reason (not "computing…").
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#readout tbody tr')];
        return rows.length > 0 && rows.every((r) => !/computing/.test(r.textContent));
      }, null, { timeout: 60000 });
      await page.waitForTimeout(1500);
      const text = await page.locator('body').innerText();
      assert.doesNotMatch(text, /NaN|Infinity|∞|\binf\b/, `${hash}: ${text.match(/.{0,60}(NaN|Infinity|∞|inf).{0,60}/)?.[0]}`);
      assert.deepEqual(errors, [], hash);
      await page.close();
    }
  }],

  ['the training race runs: straight-through stalls above reinforce-optimal on the default toy', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    // The race plays by itself and pauses at its budget (1000 steps).
    await page.waitForFunction(() => /Finished: 1,000 steps/.test(document.querySelector('#race-status').textContent), null, { timeout: 60000 });
    const raceRow = (key) => page.locator(`#race-table tr[data-key="${key}"]`).evaluate((tr) => ({
      steps: Number(tr.dataset.steps), loss: Number(tr.dataset.loss), tailLoss: Number(tr.dataset.tailLoss),
      p: Number(tr.dataset.p), tailP: Number(tr.dataset.tailP), text: tr.textContent,
    }));
    const st = await raceRow('st');
    const opt = await raceRow('reinforce-optimal');
    assert.equal(st.steps, 1000);
    assert.equal(opt.steps, 1000);
    // E[f] = t² + p(1 − 2t) on the toy: below 0.2125 ⇔ p < 0.1.
    assert.ok(opt.tailLoss < 0.2125 && opt.tailP < 0.1, `reinforce-optimal drives p towards 0: ${JSON.stringify(opt)}`);
    assert.ok(st.tailLoss > 0.2125 && st.tailP > 0.2, `straight-through stalls: ${JSON.stringify(st)}`);
    assert.ok(st.tailLoss > opt.tailLoss);
    // The same race through the CLI from the exported model: the same final E[f].
    const download = page.waitForEvent('download');
    await page.locator('#export-model').click();
    const file = path.join(ctx.tmp, 'race-' + (await download).suggestedFilename());
    await (await download).saveAs(file);
    const csv = ctx.execFileSync(ctx.cli, ['train', file, '--estimator', 'reinforce-optimal', '--steps', '1000', '--lr', '0.3', '--seed', '1', '--every', '1000']).toString().trim().split('\n');
    close(Number(csv[csv.length - 1].split(',')[1]), opt.loss, 1e-12, 'final E[f] = the CLI\'s');
    // The x-axis toggle and the URL.
    await page.selectOption('#race-x', 'steps');
    await page.waitForFunction(() => /rx=steps/.test(location.hash));
    assert.match(await page.evaluate(() => location.hash), /rsteps=1000&rlr=0\.3&ropt=sgd/);
    // A new budget restarts the race (paused, as it was when it finished); ▶ Race runs it.
    await page.selectOption('#race-steps', '100');
    await page.waitForFunction(() => /Paused at step 0 of 100/.test(document.querySelector('#race-status').textContent));
    await page.locator('#race-play').click();
    await page.waitForFunction(() => /Finished: 100 steps/.test(document.querySelector('#race-status').textContent), null, { timeout: 30000 });
    const text = await page.locator('body').innerText();
    assert.doesNotMatch(text, /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['the race pauses, steps one update at a time and refuses a network too large to race', async (ctx) => {
    const { page, errors } = await openPage(ctx, { url: ctx.base + '#rplay=0&rsteps=300' });
    await page.waitForSelector('#race-table tr[data-key="st"][data-steps="0"]');
    await page.locator('#race-step').click();
    await page.waitForSelector('#race-table tr[data-key="st"][data-steps="1"]');
    assert.equal(await page.locator('#race-play').getAttribute('aria-pressed'), 'false');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('#race-table tr[data-key="st"]').getAttribute('data-steps'), '1', 'paused after one step');
    await page.goto(ctx.base + '#w=9,9&rplay=1');
    await page.waitForFunction(() => /Cannot race: .*2\^18/.test(document.querySelector('#race-status').textContent), null, { timeout: 30000 });
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['the gating miniature trains every gate type in the worker and shows its table beside the paper\'s', async (ctx) => {
    const { page, errors } = await openPage(ctx, { url: ctx.base + '#gsteps=1000' });
    await page.locator('#gating-run').click();
    // Progress while it trains; the page keeps drawing frames.
    await page.waitForSelector('#gating progress', { timeout: 10000 });
    const t0 = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    assert.ok(Date.now() - t0 < 1000, 'frames keep coming while the gaters train');
    await page.waitForFunction(() => /Done: 7 gate types/.test(document.querySelector('#gating').textContent), null, { timeout: 90000 });
    const rows = await page.locator('#gating-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      gate: tr.dataset.gate, error: Number(tr.dataset.error), loss: Number(tr.dataset.loss), text: tr.textContent,
    })));
    assert.deepEqual(rows.map((r) => r.gate), ['st', 'st-sigmoid', 'reinforce-optimal', 'sts', 'noisy-rectifier', 'sigmoid', 'dense']);
    for (const r of rows) assert.ok(r.error >= 0 && r.error <= 1 && r.loss > 0, JSON.stringify(r));
    assert.match(rows.find((r) => r.gate === 'noisy-rectifier').text, /±/);
    assert.match(rows.find((r) => r.gate === 'st').text, /exact over all gate states/);
    // The same numbers as the CLI.
    const cli = JSON.parse(ctx.execFileSync(ctx.cli, ['gating', '--steps', '1000', '--seed', '1', '--format', 'json']).toString());
    for (const r of rows) {
      const c = cli.rows.find((x) => x.gate === r.gate);
      close(c.test_error.mean, r.error, 1e-12, `${r.gate} held-out error`);
    }
    const theirs = await page.locator('#gating-theirs').textContent();
    for (const n of ['1.39', '1.87', '1.96', '1.89']) assert.ok(theirs.includes(n), n);
    const text = await page.locator('body').innerText();
    assert.doesNotMatch(text, /NaN|Infinity/);
    await page.locator('#race').screenshot({ path: path.join(ctx.shots, 'race-panel.png') });
    await page.locator('#gating').screenshot({ path: path.join(ctx.shots, 'gating-panel.png') });
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['in the lecture hall: a story stays until a setting it is about changes', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    const story = () => page.locator('#story').count();
    assert.equal(await story(), 1);
    // The race runs and finishes, sampling goes on: none of it ends the story (it used to vanish
    // after about 4.5 s, when the race finished).
    await page.waitForFunction(() => /Finished/.test(document.querySelector('#race-status').textContent), null, { timeout: 30000 });
    await page.waitForTimeout(500);
    assert.equal(await story(), 1, 'the story is still shown after the race finished');
    assert.equal(await page.locator('#preset-wrong-sign').getAttribute('aria-pressed'), 'true');
    await page.locator('#var-x-evals').check();
    await page.locator('#play').click();
    assert.equal(await story(), 1, 'display settings keep the story');
    // "Learning to predict…" (estimators out of the registry's order) stays too.
    await page.locator('#preset-learned-predictor').click();
    await page.waitForTimeout(3000);
    assert.equal(await page.locator('#preset-learned-predictor').getAttribute('aria-pressed'), 'true');
    assert.match(await page.locator('#story').textContent(), /recursive least squares/);
    // A setting the story is about ends it.
    await setInput(page, '#logit', 1.5);
    await page.waitForFunction(() => !document.querySelector('#story'));
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['in the lecture hall: keys act the same whatever has the focus', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    const playing = () => page.locator('#play').getAttribute('aria-pressed');
    // Space after clicking a story plays or pauses; it does not load the story again.
    await page.locator('#preset-toy-045').click();
    await waitRow(page, 'st', (r) => r.method === 'exact');
    await page.waitForFunction(() => document.querySelector('#play').getAttribute('aria-pressed') === 'true');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#play').getAttribute('aria-pressed') === 'false');
    await page.waitForTimeout(400);
    assert.equal(await playing(), 'false', 'the story button was not clicked again (that would restart and play)');
    // The same after Reset.
    await page.locator('#reset').click();
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#play').getAttribute('aria-pressed') === 'true');
    // Space after a checkbox does not toggle it.
    await page.locator('#var-x-evals').check();
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#play').getAttribute('aria-pressed') === 'false');
    assert.ok(await page.locator('#var-x-evals').isChecked(), 'the checkbox kept its state');
    // In lecture mode with a hidden panel, space on the hide checkbox does not show it again.
    await page.goto(`${ctx.base}#hide=seeds`);
    await page.waitForSelector('#expected-loss');
    await page.locator('.share details summary').click();
    await page.locator('#hide-network').check();
    await page.keyboard.press(' ');
    await page.waitForTimeout(300);
    assert.ok(await page.locator('#hide-network').isChecked());
    assert.equal(await page.locator('[aria-labelledby="h-network"]').count(), 0, 'the hidden panel stays hidden');
    // Enter still clicks the focused button.
    await page.locator('#preset-baselines').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#preset-baselines').getAttribute('aria-pressed') === 'true');
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['in the lecture hall: Enlarge fills the window, Esc leaves it', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    const height = () => page.locator('#plot-convergence canvas').evaluate((c) => c.getBoundingClientRect().height);
    const before = await height();
    await page.locator('#plot-convergence .enlarge').click();
    await page.waitForFunction(() => /focus=convergence/.test(location.hash));
    await page.waitForTimeout(200);
    const big = await height();
    assert.ok(big > before + 150 && big >= 800 - 200, `the main plot grew to fill the window: ${before} → ${big}`);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !/focus=/.test(location.hash));
    await page.waitForTimeout(200);
    assert.ok(Math.abs((await height()) - before) < 2, 'back to its size');
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['in the lecture hall: the readout says how each figure was obtained, with consistent digits', async (ctx) => {
    const { page, errors } = await openPage(ctx, { url: `${ctx.base}#est=reinforce,reinforce-optimal,st,learned-predictor&w=3&loss=readout&t=1&a=0.5&bs=1` });
    const lp = await waitRow(page, 'learned-predictor', (r) => r.method === 'monte-carlo');
    const cells = await page.locator('#readout tr[data-key="learned-predictor"] td').allTextContents();
    assert.match(cells[cells.length - 1], /^[\d,]+$/, `the samples column of a Monte-Carlo row: ${cells}`);
    assert.match(await page.locator('#readout tr[data-key="learned-predictor"] .why').textContent(), /learned while sampling/);
    // An exact zero is 0 in the table and in the plots' descriptions (not 1e-34).
    const labels = await page.evaluate(() => [...document.querySelectorAll('canvas[aria-label]')].map((c) => c.getAttribute('aria-label')).join(' '));
    assert.doesNotMatch(labels, /e-3\d/, labels);
    assert.doesNotMatch(labels, /\b1 parameters\b/);
    // Bias² of the unbiased Monte-Carlo rows is never shown below zero.
    for (const t of await page.locator('#readout td.bias').allTextContents()) assert.doesNotMatch(t, /^-/, t);
    // A figure and its neighbours keep four significant digits ("9.190", not "9.19").
    const variance = await page.locator('#readout tr[data-key="st"] td.var').textContent();
    assert.match(variance, /^-?(\d\.\d{3}|0\.\d*[1-9]\d{3}|\d{2}\.\d{2})/, variance);
    assert.ok(lp);
    const summary = await page.locator('#exact-summary').textContent();
    assert.match(summary, /3 parameters/);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['in the lecture hall: leaving the toy connects the layers; a degenerate network says so and offers the fix', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.selectOption('#layers', '3');
    await setInput(page, '#width-1', '8');
    await page.waitForFunction(() => /ws=1(&|$)/.test(location.hash));
    assert.equal(await page.locator('#degenerate').count(), 0);
    await setInput(page, '#weight-scale', '0');
    await page.waitForSelector('#degenerate');
    assert.match(await page.locator('#degenerate').textContent(), /not connected/);
    await page.locator('#degenerate-fix').click();
    await page.waitForFunction(() => !document.querySelector('#degenerate') && /ws=1(&|$)/.test(location.hash));
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['in the lecture hall: presentation mode, stories as slides (Page Down / Page Up), large type', async (ctx) => {
    const { page, errors } = await openPage(ctx, { viewport: { width: 1920, height: 1080 } });
    const stories = await page.locator('[id^="preset-"]').count();
    assert.ok(stories >= 10, `${stories} stories`);
    await page.locator('h1').click();
    await page.keyboard.press('l');
    await page.waitForSelector('.app.lecture');
    assert.equal(await page.locator('aside.controls').count(), 0, 'the controls are hidden in lecture mode');
    const size = await page.locator('#lecture-story').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(size >= 22, `the story caption is ${size} px`);
    const plotHeight = await page.locator('.stage canvas').evaluate((c) => c.getBoundingClientRect().height);
    assert.ok(plotHeight > 700, `the main plot fills the screen: ${plotHeight}`);
    assert.equal((await page.locator('#story-where').textContent()).trim(), `story 1 of ${stories}`);
    await page.keyboard.press('PageDown');
    await page.waitForFunction((n) => document.querySelector('#story-where').textContent.includes(`story 2 of ${n}`), stories);
    assert.match(await page.locator('#lecture-story').textContent(), /multilinear extension/);
    await page.waitForFunction(() => /ext=multilinear/.test(location.hash) && /lecture=1/.test(location.hash));
    await page.keyboard.press('PageUp');
    await page.waitForFunction((n) => document.querySelector('#story-where').textContent.includes(`story 1 of ${n}`), stories);
    // → still steps (paused: one frame).
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('.status').textContent.includes('Paused'));
    const n0 = await samples(page);
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((n) => {
      const m = document.querySelector('.status').textContent.match(/([\d,]+) samples per estimator/);
      return m && Number(m[1].replace(/,/g, '')) > n;
    }, n0, { timeout: 10000 });
    // The controls on request.
    await page.locator('#toggle-controls').click();
    await page.waitForSelector('aside.controls');
    await page.screenshot({ path: path.join(ctx.shots, 'lecture-1920x1080.png') });
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['predict, then reveal: a story\'s question hides its plot until the student commits (a key or a click)', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    // The default view asks nothing: its plots show at once.
    assert.equal(await page.locator('#question').count(), 0);
    assert.equal(await page.locator('#plot-convergence').count(), 1);
    await page.locator('#preset-toy-0499').click();
    await page.waitForSelector('#question');
    assert.match(await page.locator('#question-prompt').textContent(), /lowest variance/);
    assert.equal(await page.locator('#plot-bars').count(), 0, 'the answer\'s plot is hidden');
    assert.match(await page.locator('#hidden-bars').textContent(), /Commit to an answer to see the plot/);
    assert.equal(await page.locator('#question-why').count(), 0, 'no why before the answer');
    assert.doesNotMatch(await page.locator('#story').textContent(), /DisARM to exactly 0/, 'the story does not give the answer away');
    await page.screenshot({ path: path.join(ctx.shots, 'question-asked.png') });
    // Key 2 (leave-one-out): committed, the plot animates in, the story says why.
    await page.keyboard.press('2');
    await page.waitForSelector('#revealed-bars #plot-bars canvas');
    assert.equal(await page.locator('#hidden-bars').count(), 0);
    const why = await page.locator('#question-why').textContent();
    assert.match(why, /^Not quite\. DisARM, with a variance of exactly zero/);
    assert.match(await page.locator('#story').textContent(), /DisARM to exactly 0/, 'then the whole story');
    assert.equal(await page.locator('#question-choice-2').getAttribute('aria-pressed'), 'true');
    assert.ok(await page.locator('#question-choice-4').evaluate((b) => b.classList.contains('right')));
    // The first answer is the commitment: another key changes nothing.
    await page.keyboard.press('4');
    await page.waitForTimeout(200);
    assert.equal(await page.locator('#question-choice-2').getAttribute('aria-pressed'), 'true');
    await page.screenshot({ path: path.join(ctx.shots, 'question-revealed.png') });
    // Lecture mode: the caption asks the next story's question; Page Down to it, answer with a key.
    await page.keyboard.press('l');
    await page.waitForSelector('.app.lecture');
    for (const n of [5, 6, 7]) {
      await page.keyboard.press('PageDown');
      await page.waitForFunction((n) => document.querySelector('#story-where').textContent.includes(`story ${n} of`), n);
    }
    await page.waitForFunction(() => /ARM vs DisARM/.test(document.querySelector('.lecture-caption .story-title')?.textContent || ''));
    await page.waitForSelector('#lecture-question');
    assert.equal(await page.locator('.stage #hidden-bars').count(), 1, 'the stage shows the placeholder');
    await page.keyboard.press('2');
    await page.waitForSelector('.stage #revealed-bars #plot-bars canvas');
    assert.match(await page.locator('#lecture-question-why').textContent(), /^Right\. DisARM \(0\.84 against ARM's 0\.93\)/);
    await page.screenshot({ path: path.join(ctx.shots, 'question-lecture.png') });
    // A click answers too, and loading the story again asks again.
    await page.keyboard.press('PageUp');
    await page.waitForFunction(() => document.querySelector('#story-where').textContent.includes('story 6 of'));
    await page.keyboard.press('PageDown');
    await page.waitForSelector('.stage #hidden-bars');
    await page.locator('#lecture-question-choice-1').click();
    await page.waitForSelector('#lecture-question-why');
    assert.match(await page.locator('#lecture-question-why').textContent(), /^Not quite\./);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['hover: a plot shows the values under the pointer, and under keyboard focus (arrow keys)', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await waitRow(page, 'reinforce', (r) => r.method === 'exact');
    await waitRow(page, 'st', (r) => r.method === 'exact');
    const tip = (id) => page.locator(`#${id} .probe-tip`);
    // Keyboard: focus the convergence plot, → shows a point's values (and does not step the sampling).
    const canvas = page.locator('#plot-convergence canvas');
    await canvas.focus();
    const playing = await page.locator('#play').getAttribute('aria-pressed');
    await page.keyboard.press('ArrowRight');
    await tip('plot-convergence').waitFor();
    const first = await tip('plot-convergence').textContent();
    assert.match(first, / — .* = /, first);
    assert.doesNotMatch(first, /NaN|inf/);
    assert.equal(await page.locator('#plot-convergence .probe-live').textContent(), first, 'read out to screen readers');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((t) => document.querySelector('#plot-convergence .probe-tip')?.textContent !== t, first);
    assert.equal(await page.locator('#play').getAttribute('aria-pressed'), playing, 'the arrow keys stayed with the plot');
    await page.screenshot({ path: path.join(ctx.shots, 'hover-keyboard.png') });
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('#plot-convergence .probe-tip'));
    // Pointer: over the bars plot's first bar top (found with the keyboard), the tooltip names it.
    const bars = page.locator('#plot-bars canvas');
    await bars.focus();
    await page.keyboard.press('ArrowRight');
    const dot = await page.locator('#plot-bars .probe-dot').evaluate((d) => [parseFloat(d.style.left), parseFloat(d.style.top)]);
    const byKeys = await tip('plot-bars').textContent();
    await page.locator('#play').focus();
    await page.waitForFunction(() => !document.querySelector('#plot-bars .probe-tip'));
    const box = await bars.boundingBox();
    await page.mouse.move(box.x + dot[0] + 3, box.y + dot[1] + 2);
    await tip('plot-bars').waitFor();
    assert.equal(await tip('plot-bars').textContent(), byKeys);
    assert.match(byKeys, /^REINFORCE \(no baseline\) — (bias²|variance) = /, byKeys);
    // The readout and the tooltip agree (the variance, to the tooltip's four digits).
    const r = await row(page, 'reinforce');
    await bars.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const v = await tip('plot-bars').textContent();
    const shown = Number(v.match(/variance = ([-\d.e]+)/)[1]);
    close(shown, r.variance, 1e-3, 'tooltip vs readout variance');
    await page.screenshot({ path: path.join(ctx.shots, 'hover-pointer.png') });
    // Away from every point: no tooltip.
    await page.mouse.move(box.x + dot[0] + 3, box.y + dot[1] + 2);
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.waitForFunction(() => !document.querySelector('#plot-bars .probe-tip'));
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['one draw at a time: each Step draws exactly one sample per estimator and shows it', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.locator('#single').check();
    await page.waitForFunction(() => /single=1/.test(location.hash) && /play=0/.test(location.hash));
    await page.waitForSelector('#plot-draw');
    await waitRow(page, 'st', (r) => r.method === 'exact');
    await page.locator('h1').click();
    for (let n = 1; n <= 3; n++) {
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction((k) => /(\d+) samples per estimator/.test(document.querySelector('.status').textContent)
        && Number(document.querySelector('.status').textContent.match(/([\d,]+) samples per estimator/)[1]) === k, n, { timeout: 10000 });
    }
    await page.waitForFunction(() => /\(3 draws\)/.test(document.querySelector('#plot-draw canvas').getAttribute('aria-label')));
    const label = await page.locator('#plot-draw canvas').getAttribute('aria-label');
    assert.match(label, /The drawn state of st is h = [01]; the loss's slope there is -?0\.9|The drawn state of st is h = [01]; the loss's slope there is 1\.1/, label);
    // ▶ in this mode plays one draw per frame: slow motion.
    await page.keyboard.press(' ');
    await page.waitForTimeout(1500);
    await page.keyboard.press(' ');
    const n = await samples(page);
    assert.ok(n > 3 && n < 40, `one draw per frame while playing: ${n}`);
    await page.locator('#plot-draw .enlarge').click();
    await page.waitForFunction(() => /focus=draw/.test(location.hash));
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ctx.shots, 'one-draw.png') });
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['small screens and accessibility: phone order, tap targets, skip link, focus trap', async (ctx) => {
    const { page, errors } = await openPage(ctx, { viewport: { width: 390, height: 844 } });
    const top = (sel) => page.locator(sel).first().evaluate((e) => e.getBoundingClientRect().top + window.scrollY);
    const [story, sampling, results, network] = [await top('.presets'), await top('.playback'), await top('#results'), await top('[aria-labelledby="h-network"]')];
    assert.ok(story < results && sampling < results && results < network, `order: ${[story, sampling, results, network]}`);
    for (const sel of ['#play', '#reset', '.preset', '#plot-convergence .enlarge']) {
      const h = await page.locator(sel).first().evaluate((e) => e.getBoundingClientRect().height);
      assert.ok(h >= 44, `${sel} is ${h} px high`);
    }
    await page.screenshot({ path: path.join(ctx.shots, 'phone-390x844.png') });
    await page.close();
    // The skip link, and the shortcut dialog that holds the focus until it is closed.
    const { page: desk, errors: errors2 } = await openPage(ctx);
    await desk.keyboard.press('Tab');
    assert.equal(await desk.evaluate(() => document.activeElement.textContent), 'Skip to the plots');
    await desk.locator('#help').click();
    await desk.waitForSelector('#shortcuts');
    assert.equal(await desk.evaluate(() => document.activeElement.id), 'close-shortcuts');
    for (let i = 0; i < 3; i++) await desk.keyboard.press('Tab');
    await desk.keyboard.press('Shift+Tab');
    assert.equal(await desk.evaluate(() => document.activeElement.id), 'close-shortcuts', 'the focus stays in the dialog');
    await desk.keyboard.press('Escape');
    await desk.waitForSelector('#shortcuts', { state: 'detached' });
    assert.equal(await desk.evaluate(() => document.activeElement.id), 'help', 'the focus goes back');
    // The focus ring: at least 3:1 against the page.
    const ratio = await desk.evaluate(() => {
      const rgb = (c) => c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
      const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
      const b = document.querySelector('#help'); b.focus();
      const ring = lum(rgb(getComputedStyle(b).outlineColor)), bg = lum(rgb(getComputedStyle(document.body).backgroundColor));
      return (Math.max(ring, bg) + 0.05) / (Math.min(ring, bg) + 0.05);
    });
    assert.ok(ratio >= 3, `focus ring contrast ${ratio.toFixed(2)}:1`);
    assert.deepEqual(errors, []);
    assert.deepEqual(errors2, []);
    await desk.close();
  }],

  ['the Digits experiment trains the VAE in a worker: race plot, images and bars, the numbers of the CLI', async (ctx) => {
    const url = ctx.base + '#dtr=exact,disarm,st&dk=4&dsteps=100&dseed=1&play=0&rplay=0';
    const { page, errors } = await openPage(ctx, { url });
    await page.locator('#digits').scrollIntoViewIfNeeded();
    assert.match(await page.locator('#digits-status').textContent(), /Press ▶ Train/);
    // The controls offer only what can train: no unit types; k up to 12.
    assert.equal(await page.locator('#digits input[data-key="sts"]').count(), 0);
    assert.equal(await page.locator('#digits input[data-key="exact"]').isChecked(), true);
    const ks = await page.locator('#digits-k option').evaluateAll((os) => os.map((o) => Number(o.value)));
    assert.deepEqual(ks, Array.from({ length: 12 }, (_, i) => i + 1));
    await page.locator('#digits-train').click();
    // The page keeps drawing frames while the worker trains.
    const t0 = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    assert.ok(Date.now() - t0 < 1000, 'frames keep coming while the VAE trains');
    await page.waitForFunction(() => /Done: 3 trainers/.test(document.querySelector('#digits-status').textContent), null, { timeout: 90000 });
    const rows = await page.locator('#digits-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      key: tr.dataset.key, step: Number(tr.dataset.step), nll: Number(tr.dataset.nll), elbo: Number(tr.dataset.elbo), text: tr.textContent,
    })));
    assert.deepEqual(rows.map((r) => r.key), ['exact', 'disarm', 'st']);
    for (const r of rows) {
      assert.equal(r.step, 100, JSON.stringify(r));
      assert.ok(Number.isFinite(r.nll) && Number.isFinite(r.elbo) && r.nll > 0 && r.elbo >= r.nll, JSON.stringify(r));
      assert.match(r.text, /exact/);
    }
    // The same numbers as `stochgrad digits train`.
    const csv = ctx.execFileSync(ctx.cli, ['digits', 'train', '--estimator', 'disarm', '--latents', '4', '--steps', '100', '--eval-every', '50']).toString().trim().split('\n');
    const head = csv[0].split(','), last = csv[csv.length - 1].split(',').map(Number);
    const disarm = rows.find((r) => r.key === 'disarm');
    close(last[head.indexOf('test_neg_log_marginal')], disarm.nll, 1e-12, 'disarm test −log p(x)');
    close(last[head.indexOf('test_neg_elbo')], disarm.elbo, 1e-12, 'disarm test −ELBO');
    // The race plot is drawn and says what it shows.
    const ink = (id) => page.locator(`#${id} canvas`).evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
      return n;
    });
    assert.ok(await ink('plot-digits-race') > 1000, 'the race plot is drawn');
    const raceLabel = await page.locator('#plot-digits-race canvas').getAttribute('aria-label');
    assert.match(raceLabel, /disarm: −log p\(x\) = [\d.]+, −ELBO = [\d.]+ nats per image after 100 steps/);
    // The images: the test images, then each trainer's reconstructions and samples, in grey.
    assert.equal(await page.locator('#digits-images svg.digit-strip').count(), 1 + 3 * 2);
    const greys = await page.locator('#digits-images tr[data-key="disarm"] svg rect').count();
    assert.ok(greys > 16, `the reconstructions have grey pixels (${greys} squares)`);
    // The bars: exact bias² and variance at four checkpoints for each estimator (not for exact).
    const bars = await page.locator('#digits-bars-table tbody td[data-step]').evaluateAll((tds) => tds.map((td) => ({
      key: td.closest('tr').dataset.key, step: Number(td.dataset.step), bias: Number(td.dataset.bias), variance: Number(td.dataset.variance),
      method: td.dataset.method, text: td.closest('tr').textContent,
    })));
    assert.deepEqual(bars.map((b) => `${b.key}@${b.step}`), ['disarm@0', 'disarm@33', 'disarm@66', 'disarm@100', 'st@0', 'st@33', 'st@66', 'st@100']);
    for (const b of bars) {
      assert.ok(Number.isFinite(b.bias) && Number.isFinite(b.variance) && b.variance > 0, JSON.stringify(b));
      assert.equal(b.method, 'exact');
      assert.doesNotMatch(b.text, /NaN|Infinity/);
    }
    assert.ok(bars.filter((b) => b.key === 'disarm').every((b) => b.bias < 1e-20), 'DisARM is unbiased');
    assert.ok(bars.filter((b) => b.key === 'st').every((b) => b.bias > 1e-6), 'straight-through is biased');
    assert.ok(await ink('plot-digits-bars') > 1000, 'the bars are drawn');
    assert.match(await page.locator('#plot-digits-bars canvas').getAttribute('aria-label'), /^At step 100, on the first 10 test images/);
    await setInput(page, '#digits-bar-step', '33');
    await page.waitForFunction(() => /^At step 33/.test(document.querySelector('#plot-digits-bars canvas').getAttribute('aria-label')));
    // The settings are in the link.
    await page.waitForFunction(() => /dbar=33/.test(location.hash) && /dk=4/.test(location.hash) && /dtr=exact,disarm,st/.test(location.hash));
    const text = await page.locator('#digits').innerText();
    assert.doesNotMatch(text, /NaN|Infinity/);
    await page.locator('#digits').screenshot({ path: path.join(ctx.shots, 'digits-panel.png') });
    // A long run: Stop keeps what was computed.
    await setInput(page, '#digits-steps', '5000');
    await page.locator('#digits-train').click();
    await page.waitForSelector('#digits progress', { timeout: 20000 });
    await page.locator('#digits-stop').click();
    await page.waitForFunction(() => /Stopped/.test(document.querySelector('#digits-status').textContent));
    assert.ok(await page.locator('#digits-table tbody tr').count() >= 1);
    assert.deepEqual(errors, []);
    await page.close();
  }],

  ['screenshots at 1280×800, 1920×1080 and 1024×768', async (ctx) => {
    for (const [w, h] of [[1280, 800], [1920, 1080], [1024, 768]]) {
      const { page, errors } = await openPage(ctx, { viewport: { width: w, height: h } });
      await waitRow(page, 'concrete', (r) => r.method === 'quadrature');
      await page.waitForTimeout(2500);
      await page.screenshot({ path: path.join(ctx.shots, `page-${w}x${h}.png`) });
      await page.screenshot({ path: path.join(ctx.shots, `page-${w}x${h}-full.png`), fullPage: true });
      assert.deepEqual(errors, []);
      await page.close();
    }
  }],
  ['gradient field: rows stream into the open view, and its CSV is what `stochgrad field` computes', async (ctx) => {
    const { page, errors } = await openPage(ctx);
    await page.selectOption('#layers', '1');
    await setInput(page, '#width-1', '2');
    await waitRow(page, 'st', (r) => r.method === 'exact' && r.mean && r.mean.length === 2);
    // Closed by default: nothing is computed, and the view says so.
    assert.match(await page.locator('#field-status').textContent(), /computed only while this view is open/);
    const t0 = Date.now();
    await page.locator('#field-open').click();
    assert.equal(await page.locator('#field-x').inputValue(), 'c1[0]');
    assert.equal(await page.locator('#field-y').inputValue(), 'c1[1]');
    await page.waitForFunction(() => /Computing: 20 of 20 rows|Done: 20 of 20/.test(document.querySelector('#field-status')?.textContent || ''), null, { timeout: 20000 });
    const gridMs = Date.now() - t0;
    await page.waitForFunction(() => /^Done/.test(document.querySelector('#field-status')?.textContent || ''), null, { timeout: 60000 });
    const dl = page.waitForEvent('download');
    await page.locator('#plot-field button:text("CSV")').click();
    const d = await dl;
    const csvFile = path.join(ctx.tmp, d.suggestedFilename());
    await d.saveAs(csvFile);
    const lines = fs.readFileSync(csvFile, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#'));
    assert.equal(lines[0], 'kind,key,step,x,y,expected_loss,gx,gy,se_x,se_y,method');
    const rows = lines.slice(1).map((l) => l.split(','));
    const grid = rows.filter((r) => r[0] === 'grid' && r[1] === 'exact');
    assert.equal(grid.length, 400);
    const mdl = page.waitForEvent('download');
    await page.locator('#export-model').click();
    const model = path.join(ctx.tmp, (await mdl).suggestedFilename());
    await (await mdl).saveAs(model);
    const xs = [...new Set(grid.map((r) => Number(r[3])))].sort((a, b) => a - b);
    const ys = [...new Set(grid.map((r) => Number(r[4])))].sort((a, b) => a - b);
    const range = [xs[0], xs[xs.length - 1], ys[0], ys[ys.length - 1]].join(',');
    const keys = ['reinforce', 'reinforce-optimal', 'st', 'st-sigmoid', 'concrete'];
    const common = ['field', model, '--x', 'c1[0]', '--y', 'c1[1]', '--range', range, '--grid', '20', '--estimators', keys.join(','),
      '--steps', '1000', '--lr', '0.3', '--optimizer', 'sgd', '--seed', '1'];
    const cli = ctx.execFileSync(ctx.cli, [...common, '--format', 'csv']).toString().trim().split('\n');
    const head = cli[0].split(',');
    assert.equal(cli.length, 401);
    // A few grid points: E[f], the exact gradient and each estimator's mean.
    for (const n of [0, 57, 210, 399]) {
      const c = cli[1 + n].split(',').map(Number);
      const at = (r) => Number(r[3]) === c[0] && Number(r[4]) === c[1];
      const e = grid.find(at);
      assert.ok(e, `grid point ${c[0]}, ${c[1]} on the page`);
      close(Number(e[5]), c[head.indexOf('expected_loss')], 1e-12, `E[f] at ${n}`);
      close(Number(e[6]), c[head.indexOf('gradient_x')], 1e-12, `∂x at ${n}`);
      close(Number(e[7]), c[head.indexOf('gradient_y')], 1e-12, `∂y at ${n}`);
      for (const k of keys) {
        const r = rows.find((r) => r[0] === 'grid' && r[1] === k && at(r));
        close(Number(r[6]), c[head.indexOf(`${k}_mean_x`)], 1e-12, `${k} mean x at ${n}`);
        close(Number(r[7]), c[head.indexOf(`${k}_mean_y`)], 1e-12, `${k} mean y at ${n}`);
      }
    }
    // The trajectories' last points (the race's seed, learning rate, optimizer and steps).
    const json = JSON.parse(ctx.execFileSync(ctx.cli, common).toString());
    for (const e of json.estimators.filter((e) => e.trajectory)) {
      const pts = e.trajectory.points;
      const last = rows.filter((r) => r[0] === 'trajectory' && r[1] === e.key).pop();
      assert.equal(Number(last[2]), pts.length - 1, `${e.key} steps`);
      close(Number(last[3]), pts[pts.length - 1][0], 1e-12, `${e.key} final x`);
      close(Number(last[4]), pts[pts.length - 1][1], 1e-12, `${e.key} final y`);
    }
    console.log(`    field: 20 rows in ${gridMs} ms (budget 1000 ms for ≤ 8 units)`);
    await page.screenshot({ path: path.join(ctx.shots, 'field-1280.png'), fullPage: false });
    await page.locator('#field').screenshot({ path: path.join(ctx.shots, 'field-panel.png') });
    assert.deepEqual(errors, []);
    await page.close();
  }],
];
