// Bundles the web client (src/) into dist/client/, which Django serves as /static/client/.
// `make install` runs it after `npm ci`; nothing here is downloaded at run time.
import { build } from "esbuild";

await build({
  entryPoints: { app: "src/main.js", "app-style": "src/app.css" },
  outdir: "dist/client",
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: ["es2022"],
  // The screens are Preact components written in JSX (*.jsx), compiled to preact/jsx-runtime calls.
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked", // the libraries' licence texts go into app.js.LEGAL.txt beside the bundle
  logLevel: "warning",
});
