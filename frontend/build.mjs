// Builds the dashboard's browser assets into src/amc_manager/web/static/build/ (gitignored):
// one bundle per page kind, minified, no source maps shipped, nothing fetched at run time.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";

const out = new URL("../src/amc_manager/web/static/build/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { app: "src/app.js", editor: "src/editor.js", results: "src/results.js", "app-style": "src/app.css" },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome109", "firefox115", "safari16"],
  legalComments: "none",
  logLevel: "warning",
  entryNames: "[name]",
});
// The stylesheet's bundle is named app-style.css by esbuild's entry rules; pages link app.css.
import { renameSync } from "node:fs";
renameSync(out + "app-style.css", out + "app.css");
console.log(`assets built in ${out}`);
