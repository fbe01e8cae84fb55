// Take a screenshot of a page: node e2e/shoot.mjs URL OUT.png [width] [height] [dark] [waitMs]
import { chromium } from 'playwright-core';
const [url, out, w = '1280', h = '800', dark = '0', wait = '3000'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: Number(w), height: Number(h) }, colorScheme: dark === '1' ? 'dark' : 'light' });
page.on('console', (m) => { if (m.type() === 'error') console.error('console:', m.text()); });
await page.goto(url);
await page.waitForTimeout(Number(wait));
await page.screenshot({ path: out });
await browser.close();
