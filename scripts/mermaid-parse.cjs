// mermaid-parse.cjs CLI_DIR FILE... parses each Mermaid file with
// Mermaid's own parser (mermaid.parse), in one headless Chromium page, and
// prints "FILE: error" for each file it rejects; it exits 1 if any is
// rejected. CLI_DIR is the directory of the @mermaid-js/mermaid-cli
// package (npm install -g @mermaid-js/mermaid-cli), whose puppeteer and
// mermaid it uses; PUPPETEER_EXECUTABLE_PATH names the browser
// (Debian's /usr/bin/chromium). Rendering every diagram with mmdc takes
// a second each; parsing them all takes one page load.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

async function main() {
  const [cliDir, ...files] = process.argv.slice(2);
  const req = createRequire(path.join(cliDir, 'package.json'));
  const puppeteer = req('puppeteer');
  const mermaidJS = req.resolve('mermaid/dist/mermaid.min.js');
  const browser = await puppeteer.launch({ headless: true, args: ['--no-sandbox'] });
  let bad = 0;
  try {
    const page = await browser.newPage();
    await page.setContent('<!DOCTYPE html><html><body></body></html>');
    await page.addScriptTag({ path: mermaidJS });
    await page.evaluate(() => window.mermaid.initialize({ startOnLoad: false }));
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const err = await page.evaluate(async (t) => {
        try {
          await window.mermaid.parse(t);
          return '';
        } catch (e) {
          return String((e && e.message) || e);
        }
      }, text);
      if (err) {
        bad++;
        console.log(f + ': ' + err.split('\n').join(' | '));
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`parsed ${files.length} files, ${bad} rejected`);
  process.exit(bad ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
