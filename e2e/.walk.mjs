import { chromium } from 'playwright-core';
import fs from 'node:fs';
const base = 'http://127.0.0.1:18081';
const dir = fs.mkdtempSync('/tmp/walk-');
const browser = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox','--disable-gpu','--no-first-run','--disable-background-networking','--disable-component-update'],
  viewport: { width: 360, height: 740 } });
const page = await browser.newPage();
await page.goto(base + '/login');
await page.fill('input[name=username]', 'mudan7-w1');
await page.fill('input[name=password]', 'huamu-demo-2026');
let t = Date.now();
await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
console.log('home', Date.now()-t, 'ms');
await page.evaluate(() => document.querySelector('#mind-h') && document.querySelector('#mind-h').scrollIntoView()); await page.screenshot({ path: '/tmp/shot-home.png', fullPage: false });
const card = await page.$('#mind-1');
console.log('mind card', !!card);
t = Date.now();
await Promise.all([page.waitForNavigation(), page.click('#mind-1')]);
console.log('block', Date.now()-t, 'ms', page.url());
await page.screenshot({ path: '/tmp/shot-block.png', fullPage: true });
const b = await page.$('#buildings a');
t = Date.now();
await Promise.all([page.waitForNavigation(), b.click()]);
console.log('building', Date.now()-t, 'ms', page.url());
await page.screenshot({ path: '/tmp/shot-building.png', fullPage: false });
await browser.close();
