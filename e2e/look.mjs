// Ad-hoc look at pages (not part of the suite): node look.mjs BASE user path [path...]
import { chromium } from "playwright-core";
const [base, user, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"] });
const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
const page = await ctx.newPage();
page.on("pageerror", (e) => console.log("PAGEERROR", String(e)));
if (user !== "-") {
  await page.goto(base + "/login");
  await page.fill("#username", user);
  await page.fill("#password", process.env.PW || "demo-password");
  await page.click("button[type=submit]");
}
let i = 0;
for (const p of paths) {
  await page.goto(base + p);
  await page.screenshot({ path: `/tmp/shots/${i++}.png`, fullPage: process.env.FULL === "1" });
  console.log(p, await page.title());
}
await browser.close();
