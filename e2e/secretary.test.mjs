// A committee secretary signs in and opens her neighbourhood's page, in a real browser
// (Debian's Chromium, headless), at phone width. Runs against `doorstep demo` on a fresh
// database and a free port.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const bin = process.env.DOORSTEP_BIN;
if (!bin) throw new Error("set DOORSTEP_BIN to the doorstep binary");
const shots = process.env.E2E_SCREENSHOTS; // optional folder for screenshots

let server, base, browser, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "doorstep-e2e-"));
  server = spawn(bin, ["demo", "--bind", "127.0.0.1:0"], {
    env: { ...process.env, DOORSTEP_DATABASE_URL: `sqlite://${dataDir}/demo.sqlite`, DOORSTEP_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  base = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${out}`)), 120_000);
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/running at (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on("exit", (code) => reject(new Error(`demo exited with ${code}:\n${out}`)));
  });
  // Playwright gives every launch a fresh, empty --user-data-dir of its own.
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("a secretary signs in and opens her neighbourhood page on a phone", async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 780 }, locale: "zh-CN" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    // A form answered with a 4xx is logged as a failed load; subresources are checked below.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    if (r.request().resourceType() !== "document" && r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });

  // The address residents are given opens on their pages; staff sign in from there.
  await page.goto(base + "/");
  assert.ok(await page.locator("#go-report").isVisible());
  await page.click("text=登录工作台");
  await page.waitForURL(/\/login/);
  assert.equal(await page.locator("h1").textContent(), "登录");
  await page.fill("#username", "mudan7-sec");
  await page.fill("#password", "wrong-password-123");
  await page.click("button[type=submit]");
  assert.match(await page.locator(".alert.error").textContent(), /用户名或密码错误/);

  await page.fill("#username", "mudan7-sec");
  await page.fill("#password", "huamu-demo-2026");
  await page.click("button[type=submit]");
  await page.waitForURL(base + "/");
  assert.match(await page.locator("h1").textContent(), /您好/);
  assert.match(await page.locator(".demo-banner").textContent(), /演示数据/);
  if (shots) await page.screenshot({ path: join(shots, "home-phone.png"), fullPage: true });

  // The menu is a <details> element: open it and follow "我的居民区".
  await page.click("summary");
  await page.click("text=我的居民区");
  await page.waitForURL(/\/neighbourhoods\/\d+$/);
  assert.equal((await page.locator("h1").textContent()).trim().split(/\s/)[0], "牡丹第七居民区");
  const body = await page.locator("main").textContent();
  assert.match(body, /小区/);
  assert.match(body, /服务站/);
  assert.match(body, /办公面积 30 m²/);
  // Nothing overflows the phone's width.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  if (shots) await page.screenshot({ path: join(shots, "neighbourhood-phone.png"), fullPage: true });

  // Her station shows office versus service space.
  await page.click("text=牡丹七“家门口”服务站");
  await page.waitForURL(/\/stations\/\d+/);
  assert.match(await page.locator("main").textContent(), /办公面积由 300 m² 调整为 30 m²/);
  if (shots) await page.screenshot({ path: join(shots, "station-phone.png"), fullPage: true });

  // English is one click away.
  await page.click("a.lang");
  await page.waitForURL(/\/stations\/\d+/);
  assert.match(await page.locator("main").textContent(), /Office area from 300 m² to 30 m²/);

  assert.deepEqual(errors, [], "no script or CSP errors");
  await context.close();
});

test("the catalogue suggests as she types, and the circle map shows her buildings", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/login");
  await page.fill("#username", "mudan7-sec");
  await page.fill("#password", "huamu-demo-2026");
  await page.click("button[type=submit]");
  await page.waitForURL(base + "/");
  // A request taken at the desk lands on its page, owned by her.
  await page.goto(base + "/requests/new");
  await page.check("input[name=kind][value=help]");
  await page.fill("#f-description", "3号楼楼道灯坏了，老人晚上回家看不见");
  await page.fill("#f-resident_phone", "13800138000");
  await page.click("main form.desk button[type=submit]");
  await page.waitForURL(/\/requests\/\d+/);
  const req = await page.locator("main").textContent();
  assert.match(req, /已受理/);
  assert.match(req, /138\*\*\*\*8000/);

  // The catalogue suggests matters as the resident's words are typed.
  await page.goto(base + "/catalogue");
  await page.fill("#catalogue-q", "老年津贴");
  await page.waitForSelector("#suggestions li a");
  assert.equal(await page.locator("#suggestions li a").first().textContent(), "老年综合津贴申请");

  await page.goto(base + "/circle?category=market&k=2");
  assert.equal(await page.locator("h1").textContent(), "15 分钟生活服务圈");
  assert.match(await page.locator(".alert.info").textContent(), /合成/);
  const buildings = await page.locator("svg.map circle[class^=b]").count();
  assert.ok(buildings >= 20, `only ${buildings} buildings drawn`);
  assert.ok((await page.locator("svg.map rect.fac").count()) >= 1, "markets drawn");
  assert.match(await page.locator("#coverage").textContent(), /牡丹第七居民区/);
  // The map's bounding box is drawn inside the page.
  const box = await page.locator("svg.map").boundingBox();
  assert.ok(box && box.width > 500 && box.height > 200, JSON.stringify(box));
  if (shots) await page.screenshot({ path: join(shots, "circle-desktop.png") });
  assert.deepEqual(errors, []);
  await context.close();
});

// A 1×1 PNG: what a phone would attach.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

test("a resident reports from a phone without an account and follows it by code", async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 780 }, locale: "zh-CN" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/report");
  await page.fill("input.filter", "牡丹第七");
  await page.click("a.pick:visible");
  await page.waitForURL(/\/report\?neighbourhood_id=\d+/);
  // A wrong phone is named, and what was typed stays.
  await page.selectOption("#f-kind", "complaint");
  await page.fill("#f-description", "楼道里堆满纸箱，老人下楼不方便");
  const firstBuilding = await page.locator("#f-building_id option").nth(1).getAttribute("value");
  await page.selectOption("#f-building_id", firstBuilding);
  await page.fill("#f-resident_phone", "12345");
  await page.click("main button[type=submit]");
  assert.match(await page.locator(".field.has-error .err").first().textContent(), /电话号码格式不正确/);
  assert.equal(await page.inputValue("#f-description"), "楼道里堆满纸箱，老人下楼不方便");
  await page.fill("#f-resident_phone", "139 1234 5678");
  await page.setInputFiles("#f-photo", { name: "photo.png", mimeType: "image/png", buffer: PNG });
  await page.click("main button[type=submit]");
  await page.waitForURL(/\/track\/[A-Z0-9]{10}\?new=1$/);
  const code = (await page.locator("#tracking-code").textContent()).trim();
  assert.match(code, /^[A-Z0-9]{10}$/);
  assert.equal((await page.locator("#track-state").textContent()).trim(), "已受理");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  if (shots) await page.screenshot({ path: join(shots, "resident-tracking-phone.png"), fullPage: true });
  // Later, the code typed in lower case finds it again; no personal data is shown.
  await page.goto(base + "/track");
  await page.fill("#code", code.toLowerCase());
  await page.click("main button[type=submit]");
  await page.waitForURL(base + "/track/" + code);
  const text = await page.locator("main").textContent();
  assert.ok(!text.includes("5678"), "the phone is not shown");
  assert.deepEqual(errors, []);
  await context.close();
});

test("at the desk, a likely duplicate is suggested as she types and merged after intake", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/login");
  await page.fill("#username", "mudan7-sec");
  await page.fill("#password", "huamu-demo-2026");
  await page.click("button[type=submit]");
  await page.waitForURL(base + "/");
  const intake = async (text) => {
    await page.goto(base + "/requests/new");
    await page.check("input[name=kind][value=complaint]");
    // The building is found by typing: the fourth of the estate's list.
    await page.fill("#f-building_id-q", "号");
    await page.locator("#f-building_id-list button").nth(3).click();
    await page.fill("#f-description", text);
  };
  await intake("5号楼电梯门口停满电瓶车，飞线充电很危险");
  await page.click("main form.desk button[type=submit]");
  await page.waitForURL(/\/requests\/\d+/);
  const first = page.url().replace(/\?taken=1$/, "");
  // The same building, in other words: the box lists the first request.
  await intake("电梯门口好多电瓶车飞线充电，太危险了");
  await page.waitForSelector("#dup-suggest:not([hidden]) li a");
  const suggested = await page.locator("#dup-suggest li a").first().getAttribute("href");
  assert.equal(base + suggested, first);
  await page.click("main form.desk button[type=submit]");
  await page.waitForURL(/\/requests\/\d+/);
  // On the new request's page: merge it into the first.
  page.once("dialog", (d) => d.accept());
  await page.click("#duplicates button[type=submit]");
  await page.waitForURL(/\/requests\/\d+$/);
  const after = await page.locator("main").textContent();
  assert.match(after, /已合并到/);
  assert.match(after, /已关闭/);
  assert.deepEqual(errors, []);
  await context.close();
});
