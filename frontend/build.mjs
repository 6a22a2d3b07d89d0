// Bundles the web client (src/) into dist/client/, which Django serves as /static/client/.
// `make install` runs it after `npm ci`; nothing here is downloaded at run time.
import { build } from "esbuild";

const common = {
  outdir: "dist/client",
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2022"],
  legalComments: "linked", // the libraries' licence texts go into <name>.LEGAL.txt beside the bundle
  logLevel: "warning",
};

await Promise.all([
  build({
    ...common,
    entryPoints: { app: "src/main.js", "app-style": "src/app.css" },
    format: "esm",
    // The screens are Preact components written in JSX (*.jsx), compiled to preact/jsx-runtime calls.
    jsx: "automatic",
    jsxImportSource: "preact",
  }),
  // Swagger UI's token renewal at /api/docs/: a classic script (it reads document.currentScript),
  // sharing api.js's single-flight renewal.
  build({ ...common, entryPoints: { api_docs_auth: "src/api_docs_auth.js" }, format: "iife" }),
  // The public share page's one script (sharing/templates/sharing/_page.html): local times,
  // highlighted code and its Copy buttons.
  build({ ...common, entryPoints: { share: "src/share_page.js" }, format: "iife" }),
]);
